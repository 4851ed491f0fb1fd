import HTTPTypes

/// Which upstream response headers reach the client.
enum ForwardedHeaders {
    /// Hop-by-hop headers (RFC 9110 §7.6.1) and headers the gateway sets itself.
    static let dropped: Set<String> = [
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers",
        "transfer-encoding", "upgrade", "content-length", "content-type", "date", "server", "x-request-id",
        "set-cookie", "alt-svc",
    ]

    /// Adds gateway headers (rate-limit headers, for instance).
    static func add(_ extra: [(name: String, value: String)], to fields: inout HTTPFields) {
        for (name, value) in extra {
            if let field = HTTPField.Name(name) { fields[field] = value }
        }
    }

    /// The upstream headers worth keeping (rate-limit and processing headers, for instance), plus
    /// the given content type.
    static func response(from upstream: [(name: String, value: String)], contentType: String) -> HTTPFields {
        var fields = HTTPFields()
        // Room for what is added on the way out (length, request id, date, server, rate-limit
        // headers), so none of it copies the fields again.
        fields.reserveCapacity(upstream.count + 8)
        fields[.contentType] = contentType
        for header in upstream {
            let name = header.name.lowercased()
            guard !dropped.contains(name), let field = HTTPField.Name(name) else { continue }
            fields.append(HTTPField(name: field, value: header.value))
        }
        return fields
    }
}
