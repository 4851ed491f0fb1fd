import Crypto
import Foundation

/// AWS credentials: an access key, its secret, and the session token of temporary (STS)
/// credentials.
public struct AWSCredentials: Sendable, Equatable {
    /// The access key id (`AKIA…`, or `ASIA…` for temporary credentials).
    public var accessKeyID: String
    /// The secret access key.
    public var secretAccessKey: Secret
    /// The session token of temporary credentials.
    public var sessionToken: Secret?

    /// Credentials.
    public init(accessKeyID: String, secretAccessKey: Secret, sessionToken: Secret? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// AWS Signature Version 4 for a request to a service other than S3: the canonical request (the
/// path's segments encoded again, as AWS does for every service but S3, so a model id sent as
/// `anthropic.claude%3A0` is signed as `anthropic.claude%253A0`), the string to sign, the derived
/// signing key and the `Authorization` header. Checked against AWS's published test suite.
public enum AWSSigV4 {
    /// The headers to add to a request to sign it: `x-amz-date`, `x-amz-security-token` (with
    /// temporary credentials) and `authorization`. `url` is the request's as sent (its path
    /// already percent-encoded); `headers` its other headers, of which `x-amz-*` are signed.
    public static func sign(
        method: String, url: String, headers: [(name: String, value: String)], body: [UInt8],
        credentials: AWSCredentials, region: String, service: String, date: Date
    ) -> [(name: String, value: String)] {
        let stamp = timestamp(date)
        let day = String(stamp.prefix(8))
        guard let parts = URLParts(url) else { return [] }
        var signed: [(name: String, value: String)] = [("host", parts.host), ("x-amz-date", stamp)]
        if let token = credentials.sessionToken { signed.append(("x-amz-security-token", token.value)) }
        for header in headers where header.name.lowercased().hasPrefix("x-amz-") {
            signed.append((header.name.lowercased(), header.value))
        }
        signed.sort { $0.name < $1.name }
        let canonicalHeaders = signed.map { "\($0.name):\(trimmed($0.value))\n" }.joined()
        let signedNames = signed.map(\.name).joined(separator: ";")
        let canonical = [
            method.uppercased(), canonicalPath(parts.path), canonicalQuery(parts.query), canonicalHeaders,
            signedNames, Hashing.hex(SHA256.hash(data: body)),
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let toSign = "AWS4-HMAC-SHA256\n\(stamp)\n\(scope)\n\(Hashing.hex(SHA256.hash(data: Array(canonical.utf8))))"
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey.value)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        let signature = Hashing.hex(HMAC<SHA256>.authenticationCode(for: Array(toSign.utf8), using: key))
        var added: [(name: String, value: String)] = [("x-amz-date", stamp)]
        if let token = credentials.sessionToken { added.append(("x-amz-security-token", token.value)) }
        added.append(
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedNames), Signature=\(signature)"
            ))
        return added
    }

    /// `YYYYMMDDTHHMMSSZ` in UTC.
    static func timestamp(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date).filter { $0 != "-" && $0 != ":" }
    }

    /// Each segment of the path encoded once more (the empty path is `/`).
    static func canonicalPath(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        return path.split(separator: "/", omittingEmptySubsequences: false).map { encode(String($0)) }
            .joined(separator: "/")
    }

    /// The query's pairs, each name and value encoded, sorted by name then value.
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        return query.split(separator: "&").map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
            return (encode(name), encode(value))
        }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Percent-encoding of everything but the unreserved characters (`A-Z a-z 0-9 - . _ ~`), as
    /// AWS specifies it; also how a model id or ARN goes into a path segment.
    public static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// A header value with its ends trimmed and inner runs of spaces made one.
    static func trimmed(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// The parts of an absolute URL the signature covers.
    struct URLParts {
        /// `host`, with `:port` when the port is not the scheme's default.
        var host: String
        /// The path as sent.
        var path: String
        /// The query as sent, without `?`.
        var query: String

        /// The parts of `url`; nil when it is not `http(s)://host…`.
        init?(_ url: String) {
            let https = url.hasPrefix("https://")
            guard https || url.hasPrefix("http://") else { return nil }
            let rest = url.dropFirst(https ? 8 : 7)
            let hostEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
            var authority = String(rest[..<hostEnd])
            if https, authority.hasSuffix(":443") { authority.removeLast(4) }
            if !https, authority.hasSuffix(":80") { authority.removeLast(3) }
            host = authority
            let target = rest[hostEnd...]
            if let mark = target.firstIndex(of: "?") {
                path = String(target[..<mark])
                query = String(target[target.index(after: mark)...])
            } else {
                path = String(target)
                query = ""
            }
        }
    }
}
