import HTTPTypes
import NIOHTTP1

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

    /// An answer's fields: the given content type, the upstream headers worth keeping (rate-limit
    /// and processing headers, for instance) and the gateway's own (`own`, each name once, such as
    /// the budgets' rate-limit headers), which replace upstream headers of the same name. Built in
    /// one pass: setting a field searches the fields for its name.
    static func response(
        from upstream: HTTPHeaders = [:], contentType: String,
        adding own: [(name: HTTPField.Name, value: String)]
    ) -> HTTPFields {
        var fields = HTTPFields()
        // Room for what is added on the way out (length, request id, date, server), so none of
        // it copies the fields again.
        fields.reserveCapacity(upstream.count + own.count + 8)
        fields.append(HTTPField(name: .contentType, value: contentType))
        forEachKept(upstream, own: own) { fields.append($0) }
        for (name, value) in own { fields.append(HTTPField(name: name, value: value)) }
        return fields
    }

    /// Hands `keep` each upstream header worth keeping, as a field: not one of `dropped`, not
    /// replaced by one of `own`, its name lowercased and a valid field name.
    static func forEachKept(
        _ upstream: HTTPHeaders, own: [(name: HTTPField.Name, value: String)],
        _ keep: (HTTPField) -> Void
    ) {
        for header in upstream
        where !isDropped(header.name) && !own.contains(where: { header.name.isHeaderName($0.name.canonicalName) }) {
            guard let field = HTTPField.Name(header.name.lowercased()) else { continue }
            keep(HTTPField(name: field, value: header.value))
        }
    }
}
