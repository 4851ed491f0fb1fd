import HTTPTypes

/// Which upstream response headers reach the client.
enum ForwardedHeaders {
    /// Hop-by-hop headers (RFC 9110 §7.6.1) and headers the gateway sets itself, lowercase.
    static let dropped: [String] = [
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers",
        "transfer-encoding", "upgrade", "content-length", "content-type", "date", "server", "x-request-id",
        "set-cookie", "alt-svc",
    ]

    /// The dropped names by their length in bytes, so a header is compared with the one or two of
    /// its length only.
    private static let droppedByLength: [[String]] = {
        var byLength = [[String]](repeating: [], count: (dropped.map(\.utf8.count).max() ?? 0) + 1)
        for name in dropped { byLength[name.utf8.count].append(name) }
        return byLength
    }()

    /// Whether the upstream header `name` (in any case) is one of `dropped`.
    static func isDropped(_ name: String) -> Bool {
        let length = name.utf8.count
        return length < droppedByLength.count && droppedByLength[length].contains(where: name.isHeaderName)
    }

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
        for header in upstream where !isDropped(header.name) {
            guard let field = HTTPField.Name(header.name.lowercased()) else { continue }
            fields.append(HTTPField(name: field, value: header.value))
        }
        return fields
    }
}
