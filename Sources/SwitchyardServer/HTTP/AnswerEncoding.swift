import HTTPTypes
import NIOCore
import NIOHTTP1

/// How an answer's body is framed on an HTTP/1 connection, decided from the request it answers and
/// the answer's head by the rules NIO's `HTTPResponseEncoder` applies (RFC 9112 section 6): an
/// answer that cannot have a body (1xx, 204, 304, or one to `CONNECT`) goes without its framing
/// headers; one with a `content-length` is framed by it; any other is chunked on HTTP/1.1 and ends
/// with the connection on HTTP/1.0. An answer to `HEAD` or `CONNECT` carries no body at all.
struct AnswerFraming: Equatable {
    /// The body goes out in chunks.
    var chunked = false
    /// No body may follow the head.
    var bodiless = false
    /// The head goes without its `content-length`.
    var dropsLength = false
    /// The head goes without the `transfer-encoding` it has.
    var dropsTransferEncoding = false
    /// The head gets `transfer-encoding: chunked` (in place of any it has).
    var addsChunked = false

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
            chunked = !bodiless
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

extension ByteBuffer {
    /// Writes `head`: the status line, a line per field (in the spelling it was given) with the
    /// framing and `connection` headers applied, the blank line. `HTTPFields` holds only legal
    /// names and values, so none can break a line. The bytes are measured first and copied into
    /// the buffer once.
    mutating func writeAnswerHead(_ head: AnswerHead) {
        let framing = head.framing
        // The fields written as they are, and the ones the framing and the connection set.
        let kept = head.response.headerFields.lazy.filter { field in
            // Most names have none of the three lengths, and are not compared.
            switch field.name.canonicalName.utf8.count {
            case 14: !(framing.dropsLength && field.name == .contentLength)
            case 17: !(framing.dropsTransferEncoding && field.name == .transferEncoding)
            case 10: !(head.connection != nil && field.name == .connection)
            default: true
            }
        }
        var added: [(name: StaticString, value: String)] = []
        if framing.addsChunked { added.append(("transfer-encoding", "chunked")) }
        if let connection = head.connection { added.append(("connection", connection)) }
        let status = head.response.status
        // A status made from a bare code has no phrase: the standard one is written, as NIO does.
        let phrase =
            status.reasonPhrase.isEmpty ? HTTPResponseStatus(statusCode: status.code).reasonPhrase : status.reasonPhrase
        let code = String(status.code)
        var length = 9 + code.utf8.count + 1 + phrase.utf8.count + 2 + 2
        for field in kept { length += field.name.rawName.utf8.count + 2 + field.value.utf8.count + 2 }
        for field in added { length += field.name.utf8CodeUnitCount + 2 + field.value.utf8.count + 2 }
        writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw in
            var at = 0
            func put(_ text: String) {
                let copied = text.utf8.withContiguousStorageIfAvailable { bytes in
                    UnsafeMutableRawBufferPointer(rebasing: raw[at..<(at + bytes.count)]).copyMemory(
                        from: UnsafeRawBufferPointer(bytes))
                    return bytes.count
                }
                // Strings without contiguous UTF-8 (none on Linux) are copied a byte at a time.
                at +=
                    copied
                    ?? text.utf8.reduce(into: 0) { count, byte in
                        raw[at + count] = byte
                        count += 1
                    }
            }
            func put(_ text: StaticString) {
                UnsafeMutableRawBufferPointer(rebasing: raw[at..<(at + text.utf8CodeUnitCount)]).copyMemory(
                    from: UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
                at += text.utf8CodeUnitCount
            }
            put(head.http10 ? "HTTP/1.0 " : "HTTP/1.1 ")
            put(code)
            put(" ")
            put(phrase)
            put("\r\n")
            for field in kept {
                put(field.name.rawName)
                put(": ")
                put(field.value)
                put("\r\n")
            }
            for field in added {
                put(field.name)
                put(": ")
                put(field.value)
                put("\r\n")
            }
            put("\r\n")
            return at
        }
    }

    /// Writes a chunked body's end: the last chunk, `trailers` a line each, the blank line.
    mutating func writeLastChunk(trailers: HTTPFields?) {
        writeStaticString("0\r\n")
        for field in trailers ?? [:] {
            writeString(field.name.rawName)
            writeStaticString(": ")
            writeString(field.value)
            writeStaticString("\r\n")
        }
        writeStaticString("\r\n")
    }

    /// Writes one chunk of a chunked body: its size in hexadecimal, the bytes, the line end.
    mutating func writeChunk(_ chunk: ByteBuffer) {
        writeString(String(chunk.readableBytes, radix: 16))
        writeStaticString("\r\n")
        writeImmutableBuffer(chunk)
        writeStaticString("\r\n")
    }
}

/// A body part written for an answer that may not have one (to `HEAD` or `CONNECT`).
struct AnswerBodyNotAllowed: Error {}
