import NIOCore
import NIOHTTP1

/// The head of a request to a provider, as the transport writes it: method, target and fields in
/// order. Kept as plain strings rather than NIO's `HTTPRequestHead`, whose headers would be built
/// into their own storage (and scanned for connection options) only to be read back once to
/// check and once to write.
struct UpstreamRequestHead: Sendable {
    /// The request method.
    var method: HTTPMethod
    /// The request target (path and query).
    var target: String
    /// The header fields, in the order written.
    var fields: [(name: String, value: String)]

    /// The head as NIO's answer decoder needs to know it: the method (an answer to `HEAD` has no
    /// body), without the fields.
    var decoderHead: HTTPRequestHead { HTTPRequestHead(version: .http1_1, method: method, uri: target) }
}

extension ByteBuffer {
    /// Writes `head` as HTTP/1.1 puts it on the wire: the request line, a line per header, the
    /// blank line. NIO's `HTTPRequestEncoder` would also decide the body's framing; the transport
    /// has decided it already (every request carries its `content-length` and no
    /// `transfer-encoding`), and `RequestHeadRules` has checked that no name or value can break a
    /// line.
    mutating func writeRequestHead(_ head: UpstreamRequestHead) {
        writeHead(startLine: [head.method.rawValue, " ", head.target, " HTTP/1.1"]) { line in
            for (name, value) in head.fields { line(name, value) }
        }
    }
}
