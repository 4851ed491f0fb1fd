/// Where an upstream URL points: scheme, host, port and the request target.
public struct UpstreamTarget: Sendable, Equatable {
    /// Whether to use TLS (`https`).
    public var tls: Bool
    /// Host name or address (IPv6 without brackets).
    public var host: String
    /// TCP port, the scheme's default when the URL names none.
    public var port: Int
    /// The request target: path and query, `/` at least.
    public var path: String

    /// Parses `http(s)://host[:port][/path?query]` (IPv6 hosts in brackets).
    public init?(_ url: String) {
        let rest: Substring
        if url.hasPrefix("https://") {
            tls = true
            rest = url.dropFirst(8)
        } else if url.hasPrefix("http://") {
            tls = false
            rest = url.dropFirst(7)
        } else {
            return nil
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        let remainder = rest.dropFirst(authority.count)
        path = remainder.isEmpty ? "/" : (remainder.first == "?" ? "/" + remainder : String(remainder))
        var hostPart = authority
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portPart = after.dropFirst() } else if !after.isEmpty { return nil }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        }
        guard !hostPart.isEmpty else { return nil }
        host = String(hostPart)
        if let portPart {
            guard let value = Int(portPart), (1...65535).contains(value) else { return nil }
            port = value
        } else {
            port = tls ? 443 : 80
        }
    }

    /// Whether the host is an IP literal (no SNI then).
    public var isIPAddress: Bool {
        host.utf8.contains(UInt8(ascii: ":")) || host.allSatisfy { $0.isNumber || $0 == "." }
    }

    /// The `Host` header: the port only when it is not the scheme's default.
    public var hostHeader: String {
        let name = Self.urlHost(host)
        return port == (tls ? 443 : 80) ? name : "\(name):\(port)"
    }

    /// `host` as a URL or a `Host` header writes it: an IPv6 literal in brackets.
    static func urlHost(_ host: String) -> String {
        host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host
    }
}
