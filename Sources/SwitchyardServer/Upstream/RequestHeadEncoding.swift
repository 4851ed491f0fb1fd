import NIOCore
import NIOHTTP1

extension ByteBuffer {
    /// Writes `head` as HTTP/1.1 puts it on the wire: the request line, a line per header, the
    /// blank line. NIO's `HTTPRequestEncoder` would also decide the body's framing; the transport
    /// has decided it already (every request carries its `content-length` and no
    /// `transfer-encoding`), and `RequestHeadRules` has checked that no name or value can break a
    /// line.
    mutating func writeRequestHead(_ head: HTTPRequestHead) {
        let version = head.version == .http1_1 ? "HTTP/1.1" : "HTTP/\(head.version.major).\(head.version.minor)"
        writeHead(startLine: [head.method.rawValue, " ", head.uri, " ", version], fields: head.headers)
    }
}
