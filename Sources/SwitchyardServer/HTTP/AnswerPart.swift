import HTTPTypes
import NIOCore

/// A part of an answer written to a client connection, as `HTTP1ServerCodec` takes it: NIOHTTPTypes'
/// `HTTPResponsePart`, and a head whose fields are bytes already.
enum AnswerPart: Sendable {
    /// A head given as its status and fields.
    case head(HTTPResponse)
    /// A head whose field lines are written already: the codec adds the status line, the framing
    /// and the connection's persistence.
    case encodedHead(EncodedHead)
    /// Body bytes.
    case body(ByteBuffer)
    /// The answer's end, with any trailers.
    case end(HTTPFields?)
}

/// An answer's head with its field lines written already, so no `HTTPFields` is built, completed
/// and read again on the way out (a stream's head).
struct EncodedHead: Sendable {
    /// The answer's status: a final one (interim answers go as `AnswerPart.head`).
    var status: HTTPResponse.Status
    /// The fields, a `name: value\r\n` line each, none of them a framing or `connection` header.
    var lines: ByteBuffer
    /// The body's length, when it is known before the body is written.
    var length: Int?
    /// Whether the connection closes once the answer is written (a request body left unread).
    var closes: Bool
}
