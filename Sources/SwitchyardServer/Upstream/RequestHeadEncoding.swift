import NIOCore
import NIOHTTP1

extension ByteBuffer {
    /// Writes `head` as HTTP/1.1 puts it on the wire: the request line, a line per header, the
    /// blank line. NIO's `HTTPRequestEncoder` would also decide the body's framing; the transport
    /// has decided it already (every request carries its `content-length` and no
    /// `transfer-encoding`), and `RequestHeadRules` has checked that no name or value can break a
    /// line.
    mutating func writeRequestHead(_ head: HTTPRequestHead) {
        writeString(head.method.rawValue)
        writeStaticString(" ")
        writeString(head.uri)
        if head.version == .http1_1 {
            writeStaticString(" HTTP/1.1\r\n")
        } else {
            writeString(" HTTP/\(head.version.major).\(head.version.minor)\r\n")
        }
        for (name, value) in head.headers {
            writeString(name)
            writeStaticString(": ")
            writeString(value)
            writeStaticString("\r\n")
        }
        writeStaticString("\r\n")
    }
}
