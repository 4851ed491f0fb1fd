import Foundation

/// Where a provider lives: scheme, host, port and a path prefix the adapter appends to.
public struct UpstreamBaseURL: Sendable, Equatable, CustomStringConvertible {
    /// Whether to use TLS.
    public let tls: Bool
    /// Host name or address.
    public let host: String
    /// TCP port.
    public let port: Int
    /// Path prefix without a trailing slash, e.g. `/v1` or empty.
    public let pathPrefix: String
    /// The URL of the base itself, written once: every request's URL begins with it.
    public let description: String

    /// Creates a base URL from its parts.
    public init(tls: Bool, host: String, port: Int, pathPrefix: String = "") {
        self.tls = tls
        self.host = host
        self.port = port
        self.pathPrefix = pathPrefix.hasSuffix("/") ? String(pathPrefix.dropLast()) : pathPrefix
        description = "\(tls ? "https" : "http")://\(UpstreamTarget.urlHost(host)):\(port)\(self.pathPrefix)"
    }

    /// Parses `http(s)://host[:port][/prefix]`; nil when it is not such a URL.
    public init?(parsing string: String) {
        guard let c = URLComponents(string: string), let scheme = c.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = c.host, !host.isEmpty
        else { return nil }
        let tls = scheme == "https"
        self.init(tls: tls, host: host, port: c.port ?? (tls ? 443 : 80), pathPrefix: c.path)
    }

    /// The URL for `path` below this base.
    public func url(_ path: String) -> String {
        description + path
    }
}
