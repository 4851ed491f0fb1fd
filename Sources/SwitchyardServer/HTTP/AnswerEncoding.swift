import HTTPTypes
import NIOCore
import NIOHTTP1

/// How an answer's body is framed on an HTTP/1 connection, decided from the request it answers and
/// the answer's head by the rules NIO's `HTTPResponseEncoder` applies (RFC 9112 section 6): an
/// answer that cannot have a body (1xx, 204, 304, or one to `CONNECT`) goes without its framing
/// headers; one with a `content-length` is framed by it; any other is chunked on HTTP/1.1 and ends
/// with the connection on HTTP/1.0. An answer to `HEAD` or `CONNECT` carries no body at all.
struct AnswerFraming: Equatable {
    /// No body may follow the head.
    var bodiless = false
    /// The head goes without its `content-length`.
    var dropsLength = false
    /// The head goes without the `transfer-encoding` it has.
    var dropsTransferEncoding = false
    /// The head gets `transfer-encoding: chunked` (in place of any it has).
    var addsChunked = false

    /// The body goes out in chunks: the head says so, and a body may follow it.
    var chunked: Bool { addsChunked && !bodiless }

    /// The framing of an answer with `status` and a `content-length` or not, to a request of
    /// `method` (HTTP/1.0 when `http10`).
    init(status: Int, hasLength: Bool, method: HTTPMethod, http10: Bool) {
        bodiless = method == .HEAD || method == .CONNECT
        if (100..<200).contains(status) || status == 204 || status == 304 || method == .CONNECT {
            (dropsLength, dropsTransferEncoding) = (true, true)
        } else if hasLength {
            dropsTransferEncoding = true
        } else if !http10 {
            (dropsTransferEncoding, addsChunked) = (true, true)
        }
    }

    /// Framing for no answer yet.
    init() {}
}

/// An answer's head as written: its status and fields, a `connection` value that replaces the
/// one it has (when the connection's persistence demands one), and its framing.
struct AnswerHead {
    /// The status and fields as the gateway made them.
    var response: HTTPResponse
    /// The `connection` header written in place of any the fields have.
    var connection: String?
    /// The framing, whose headers are applied as the head is written.
    var framing: AnswerFraming
    /// Whether the status line says HTTP/1.0.
    var http10: Bool
}

/// The headers that carry an answer's framing and persistence, told from a name. Only a name of
/// one of their lengths is compared: most names have none of them.
enum FramingHeader {
    case contentLength, transferEncoding, connection

    /// The framing header `name` is, or nil.
    init?(_ name: HTTPField.Name) {
        switch name.canonicalName.utf8.count {
        case 14 where name == .contentLength: self = .contentLength
        case 17 where name == .transferEncoding: self = .transferEncoding
        case 10 where name == .connection: self = .connection
        default: return nil
        }
    }
}

extension ByteBuffer {
    /// Writes `head`: the status line, a line per field (in the spelling it was given) with the
    /// framing and `connection` headers applied, the blank line. `HTTPFields` holds only legal
    /// names and values, so none can break a line.
    mutating func writeAnswerHead(_ head: AnswerHead) {
        let (fields, framing, connection) = (head.response.headerFields, head.framing, head.connection)
        writeHead(startLine: Self.statusLine(head.response.status, http10: head.http10)) { line in
            // The fields written as they are, then the ones the framing and the connection set.
            for field in fields {
                let kept =
                    switch FramingHeader(field.name) {
                    case .contentLength: !framing.dropsLength
                    case .transferEncoding: !framing.dropsTransferEncoding
                    case .connection: connection == nil
                    case nil: true
                    }
                if kept { line(field.name.rawName, field.value) }
            }
            if framing.addsChunked { line("transfer-encoding", "chunked") }
            if let connection { line("connection", connection) }
        }
    }

    /// Writes an answer head whose field lines are written already: the status line, the lines,
    /// then the `content-length`, `transfer-encoding` and `connection` headers as `framing` and
    /// the connection's persistence (`connection`) settle them, and the blank line.
    mutating func writeAnswerHead(
        _ head: EncodedHead, connection: String?, framing: AnswerFraming, http10: Bool
    ) {
        reserveCapacity(minimumWritableBytes: head.lines.readableBytes + 128)
        for piece in Self.statusLine(head.status, http10: http10) { writeString(piece) }
        writeStaticString("\r\n")
        writeImmutableBuffer(head.lines)
        let length = head.length.flatMap { framing.dropsLength ? nil : String($0) }
        writeFieldLines { line in
            if let length { line("content-length", length) }
            if framing.addsChunked { line("transfer-encoding", "chunked") }
            if let connection { line("connection", connection) }
        }
        writeStaticString("\r\n")
    }

    /// The pieces of `status`'s line (`http10`: HTTP/1.0). A status made from a bare code has no
    /// phrase: the standard one is written, as NIO does.
    private static func statusLine(_ status: HTTPResponse.Status, http10: Bool) -> [String] {
        let phrase =
            status.reasonPhrase.isEmpty ? HTTPResponseStatus(statusCode: status.code).reasonPhrase : status.reasonPhrase
        return status.code == 200 && phrase == "OK"
            ? (http10 ? ok10 : ok11)
            : [http10 ? "HTTP/1.0" : "HTTP/1.1", " ", String(status.code), " ", phrase]
    }

    /// The status lines of nearly every answer, made once.
    private static let ok11 = ["HTTP/1.1 200 OK"]
    private static let ok10 = ["HTTP/1.0 200 OK"]

    /// Writes a chunked body's end: the last chunk, `trailers` a line each, the blank line.
    mutating func writeLastChunk(trailers: HTTPFields?) {
        guard let trailers, !trailers.isEmpty else {
            writeStaticString("0\r\n\r\n")
            return
        }
        writeHead(startLine: ["0"]) { line in
            for field in trailers { line(field.name.rawName, field.value) }
        }
    }

    /// Writes one chunk of a chunked body: its size in hexadecimal, the bytes, the line end.
    mutating func writeChunk(_ chunk: ByteBuffer) {
        writeChunkSize(of: chunk)
        writeImmutableBuffer(chunk)
        writeStaticString("\r\n")
    }

    /// Writes the line that opens a chunk of `chunk`'s size: the size in hexadecimal, the line end.
    mutating func writeChunkSize(of chunk: ByteBuffer) {
        writeString(String(chunk.readableBytes, radix: 16))
        writeStaticString("\r\n")
    }
}

/// A body part written for an answer that may not have one (to `HEAD` or `CONNECT`).
struct AnswerBodyNotAllowed: Error {}
