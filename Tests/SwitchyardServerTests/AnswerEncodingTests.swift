import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import SwitchyardCore
import Testing

@testable import SwitchyardServer

/// The framing of answers and the bytes `HTTP1ServerCodec` writes for them, without sockets.
@Suite("Answer framing and encoding")
struct AnswerEncodingTests {
    /// The head written for an answer with `status` and `fields` to a `method` request.
    static func written(
        _ status: Int, _ fields: HTTPFields, method: HTTPMethod = .POST, http10: Bool = false, connection: String? = nil
    ) -> (AnswerFraming, String) {
        var response = HTTPResponse(status: HTTPResponse.Status(code: status))
        response.headerFields = fields
        let framing = AnswerFraming(
            status: status, hasLength: fields[.contentLength] != nil, method: method, http10: http10)
        var bytes = ByteBuffer()
        bytes.writeAnswerHead(AnswerHead(response: response, connection: connection, framing: framing, http10: http10))
        return (framing, String(buffer: bytes))
    }

    @Test("A 200 with a phrase of its own keeps it; a chunked body's end carries the trailers it has")
    func statusLineAndLastChunk() {
        var response = HTTPResponse(status: HTTPResponse.Status(code: 200, reasonPhrase: "Fine"))
        response.headerFields = [.contentLength: "0"]
        var bytes = ByteBuffer()
        bytes.writeAnswerHead(AnswerHead(response: response, connection: nil, framing: AnswerFraming(), http10: true))
        #expect(String(buffer: bytes) == "HTTP/1.0 200 Fine\r\nContent-Length: 0\r\n\r\n")
        for trailers: HTTPFields? in [nil, [:]] {
            var end = ByteBuffer()
            end.writeLastChunk(trailers: trailers)
            #expect(String(buffer: end) == "0\r\n\r\n")
        }
        var end = ByteBuffer()
        end.writeLastChunk(trailers: [.server: "a", .date: "b"])
        #expect(String(buffer: end) == "0\r\nServer: a\r\nDate: b\r\n\r\n")
    }

    @Test("Framing follows RFC 9112 as NIO's encoder applies it, and the head carries its headers")
    func framingRules() {
        let length: HTTPFields = [.contentLength: "2", .transferEncoding: "gzip", .contentType: "a/b"]
        let bare: HTTPFields = [.contentType: "a/b"]
        var chunked = AnswerFraming(status: 200, hasLength: false, method: .POST, http10: false)
        #expect(chunked.chunked && !chunked.bodiless)
        // A length frames the body; a transfer-encoding beside it goes.
        #expect(Self.written(200, length).1 == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: a/b\r\n\r\n")
        #expect(!Self.written(200, length).0.chunked)
        // No length: chunked on HTTP/1.1, unframed on HTTP/1.0.
        #expect(
            Self.written(200, bare).1 == "HTTP/1.1 200 OK\r\nContent-Type: a/b\r\ntransfer-encoding: chunked\r\n\r\n")
        #expect(
            Self.written(200, bare, http10: true) == (AnswerFraming(), "HTTP/1.0 200 OK\r\nContent-Type: a/b\r\n\r\n"))
        // No body possible: no framing headers; a bare code gets its standard phrase.
        for status in [100, 101, 199, 204, 304] {
            let (framing, head) = Self.written(status, length)
            #expect(!framing.chunked && head.hasSuffix("\r\nContent-Type: a/b\r\n\r\n"), "\(status)")
        }
        #expect(Self.written(304, length).1 == "HTTP/1.1 304 Not Modified\r\nContent-Type: a/b\r\n\r\n")
        // HEAD: the headers an equivalent GET would have, and no body.
        chunked = AnswerFraming(status: 200, hasLength: false, method: .HEAD, http10: false)
        #expect(chunked.bodiless && !chunked.chunked)
        #expect(
            Self.written(200, bare, method: .HEAD).1
                == "HTTP/1.1 200 OK\r\nContent-Type: a/b\r\ntransfer-encoding: chunked\r\n\r\n")
        // CONNECT: no body and no framing headers.
        #expect(Self.written(200, length, method: .CONNECT).1 == "HTTP/1.1 200 OK\r\nContent-Type: a/b\r\n\r\n")
        // The connection's persistence replaces the answer's own `connection`.
        #expect(
            Self.written(200, [.connection: "keep-alive", .contentLength: "0"], connection: "close").1
                == "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nconnection: close\r\n\r\n")
    }

    /// A codec on an embedded channel that has read a request head with `method` and `version`
    /// (over TLS when `secure`).
    static func codec(
        _ method: HTTPMethod, _ version: HTTPVersion = .http1_1, secure: Bool = false
    ) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            HTTP1ServerCodec(secure: secure, limits: ListenerSettings(), registry: ConnectionRegistry()))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(
            HTTPServerRequestPart.head(HTTPRequestHead(version: version, method: method, uri: "/")))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        return channel
    }

    /// Writes a 200 answer's head with `fields` to `channel`.
    static func writeOK(_ channel: EmbeddedChannel, _ fields: HTTPFields) throws {
        var head = HTTPResponse(status: .ok)
        head.headerFields = fields
        try channel.writeOutbound(AnswerPart.head(head))
    }

    /// The buffers written to `channel` so far, one by one.
    static func parts(_ channel: EmbeddedChannel) throws -> [ByteBuffer] {
        var parts: [ByteBuffer] = []
        while let part = try channel.readOutbound(as: ByteBuffer.self) { parts.append(part) }
        return parts
    }

    /// Everything written to `channel` so far.
    static func written(_ channel: EmbeddedChannel) throws -> String {
        var all = ByteBuffer()
        for var part in try parts(channel) { all.writeBuffer(&part) }
        return String(buffer: all)
    }

    @Test("A stream is written in chunks and ended by the last chunk with any trailers; an empty part is no chunk")
    func chunkedStream() throws {
        let channel = try Self.codec(.POST)
        try Self.writeOK(channel, [.contentType: "text/event-stream"])
        try channel.writeOutbound(AnswerPart.body(ByteBuffer(string: "data: 1\n\n")))
        try channel.writeOutbound(AnswerPart.body(ByteBuffer()))
        try channel.writeOutbound(AnswerPart.body(ByteBuffer(string: String(repeating: "x", count: 300))))
        try channel.writeOutbound(AnswerPart.end([HTTPField.Name("x-checksum")!: "abc"]))
        #expect(
            try Self.written(channel)
                == "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
                + "9\r\ndata: 1\n\n\r\n" + "12c\r\n" + String(repeating: "x", count: 300) + "\r\n"
                + "0\r\nx-checksum: abc\r\n\r\n")
        // The next answer on the connection is framed afresh.
        try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        var whole = HTTPResponse(status: HTTPResponse.Status(code: 503))
        whole.headerFields[.contentLength] = "2"
        try channel.writeOutbound(AnswerPart.head(whole))
        try channel.writeOutbound(AnswerPart.body(ByteBuffer(string: "no")))
        try channel.writeOutbound(AnswerPart.end(nil))
        #expect(try Self.written(channel) == "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\nno")
    }

    @Test(
        "A large chunk is passed on between its size line and line end, not copied (but behind TLS); its promise completes"
    )
    func largeChunk() throws {
        let channel = try Self.codec(.POST)
        try Self.writeOK(channel, [.contentType: "text/event-stream"])
        _ = try Self.written(channel)
        let body = ByteBuffer(string: String(repeating: "y", count: HTTP1ServerCodec.copiedChunkLimit))
        let written = channel.eventLoop.makePromise(of: Void.self)
        channel.write(AnswerPart.body(body), promise: written)
        channel.flush()
        let parts = try Self.parts(channel)
        #expect(parts.map { String(buffer: $0) } == ["400\r\n", String(buffer: body), "\r\n"])
        // The body went out as the buffer it was given, sharing its storage.
        let address = { (buffer: ByteBuffer) in buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } }
        #expect(parts.count == 3 && address(parts[1]) == address(body))
        try written.futureResult.wait()
        // One byte less is copied into one buffer.
        try channel.writeOutbound(AnswerPart.body(body.getSlice(at: 0, length: body.readableBytes - 1)!))
        #expect(try Self.written(channel) == "3ff\r\n" + String(repeating: "y", count: 1023) + "\r\n")
        // Behind TLS a large chunk is copied too: one buffer, one TLS record.
        let secure = try Self.codec(.POST, secure: true)
        try Self.writeOK(secure, [.contentType: "text/event-stream"])
        _ = try Self.written(secure)
        try secure.writeOutbound(AnswerPart.body(body))
        #expect(try Self.parts(secure).map { String(buffer: $0) } == ["400\r\n" + String(buffer: body) + "\r\n"])
    }

    /// Writes a body part to `channel`, whose answer may have none, expecting it refused, then
    /// the answer's end.
    static func refusesBody(_ channel: EmbeddedChannel) throws {
        let refused = channel.eventLoop.makePromise(of: Void.self)
        channel.write(AnswerPart.body(ByteBuffer(string: "hello")), promise: refused)
        channel.flush()
        #expect(throws: AnswerBodyNotAllowed.self) { try refused.futureResult.wait() }
        try channel.writeOutbound(AnswerPart.end(nil))
    }

    @Test("An answer to HEAD is its head only: a body part is refused and nothing ends it on the wire")
    func headRequest() throws {
        let channel = try Self.codec(.HEAD)
        try Self.writeOK(channel, [.contentLength: "5"])
        try Self.refusesBody(channel)
        #expect(try Self.written(channel) == "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
        #expect(channel.isActive)
    }

    @Test("HTTP/1.0 gets an HTTP/1.0 status line; a stream without a length is sent unframed and closes the connection")
    func http10() throws {
        let channel = try Self.codec(.GET, .http1_0)
        try channel.writeOutbound(AnswerPart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(AnswerPart.body(ByteBuffer(string: "data: 1\n\n")))
        try channel.writeOutbound(AnswerPart.end(nil))
        #expect(try Self.written(channel) == "HTTP/1.0 200 OK\r\nconnection: close\r\n\r\ndata: 1\n\n")
        #expect(!channel.isActive)
    }

    /// A head whose field lines are `lines` already, with `status`, a body of `length` bytes when
    /// known, closing the connection when `closes`.
    static func encoded(
        _ lines: String, status: HTTPResponse.Status = .ok, length: Int? = nil, closes: Bool = false
    ) -> AnswerPart {
        .encodedHead(EncodedHead(status: status, lines: ByteBuffer(string: lines), length: length, closes: closes))
    }

    @Test("An encoded head gets its status line, framing and persistence from the codec, as a head of fields does")
    func encodedHead() throws {
        let lines = "content-type: text/event-stream\r\nx-request-id: r1\r\n"
        let stream = try Self.codec(.POST)
        try stream.writeOutbound(Self.encoded(lines))
        try stream.writeOutbound(AnswerPart.body(ByteBuffer(string: "data: 1\n\n")))
        try stream.writeOutbound(AnswerPart.end(nil))
        #expect(
            try Self.written(stream)
                == "HTTP/1.1 200 OK\r\n\(lines)transfer-encoding: chunked\r\n\r\n9\r\ndata: 1\n\n\r\n0\r\n\r\n")
        #expect(stream.isActive)
        // A known length frames the body; a status of its own gets its line.
        let whole = try Self.codec(.POST)
        try whole.writeOutbound(Self.encoded(lines, status: .serviceUnavailable, length: 2))
        try whole.writeOutbound(AnswerPart.body(ByteBuffer(string: "no")))
        try whole.writeOutbound(AnswerPart.end(nil))
        #expect(
            try Self.written(whole) == "HTTP/1.1 503 Service Unavailable\r\n\(lines)content-length: 2\r\n\r\nno")
        // A head that closes the connection says so, and the connection closes after its end.
        let closing = try Self.codec(.POST)
        try closing.writeOutbound(Self.encoded(lines, closes: true))
        try closing.writeOutbound(AnswerPart.end(nil))
        #expect(
            try Self.written(closing)
                == "HTTP/1.1 200 OK\r\n\(lines)transfer-encoding: chunked\r\nconnection: close\r\n\r\n0\r\n\r\n")
        #expect(!closing.isActive)
        // HTTP/1.0: unframed, ended by the connection's close.
        let old = try Self.codec(.POST, .http1_0)
        try old.writeOutbound(Self.encoded(lines))
        try old.writeOutbound(AnswerPart.body(ByteBuffer(string: "data: 1\n\n")))
        try old.writeOutbound(AnswerPart.end(nil))
        #expect(try Self.written(old) == "HTTP/1.0 200 OK\r\n\(lines)connection: close\r\n\r\ndata: 1\n\n")
        #expect(!old.isActive)
        // To HEAD: the head only, its length kept; a body part is refused.
        let head = try Self.codec(.HEAD)
        try head.writeOutbound(Self.encoded(lines, length: 5))
        try Self.refusesBody(head)
        #expect(try Self.written(head) == "HTTP/1.1 200 OK\r\n\(lines)content-length: 5\r\n\r\n")
    }
}
