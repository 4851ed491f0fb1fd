import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import SwitchyardServer

@Suite("Upstream headers forwarded to the client")
struct ForwardedHeadersTests {
    @Test("Hop-by-hop and gateway-set headers are dropped in any case; the rest pass with their values")
    func dropped() {
        let upstream: [(name: String, value: String)] = [
            ("Connection", "keep-alive"), ("Transfer-Encoding", "chunked"), ("CONTENT-LENGTH", "12"),
            ("Content-Type", "text/plain"), ("Date", "x"), ("Server", "nginx"), ("X-Request-Id", "up"),
            ("Set-Cookie", "a=b"), ("Alt-Svc", "h3"), ("Keep-Alive", "timeout=5"), ("TE", "trailers"),
            ("x-ratelimit-remaining-requests", "99"), ("OpenAI-Processing-Ms", "12"), ("bad name", "dropped"),
        ]
        let fields = ForwardedHeaders.response(
            from: HTTPHeaders(upstream), contentType: "application/json", adding: [])
        #expect(
            fields.map(\.name.canonicalName) == [
                "content-type", "x-ratelimit-remaining-requests", "openai-processing-ms",
            ])
        #expect(fields[.contentType] == "application/json")
        #expect(fields[HTTPField.Name("openai-processing-ms")!] == "12")
    }

    @Test("The gateway's own headers come after the upstream's and replace those of the same name")
    func own() {
        let upstream: [(name: String, value: String)] = [
            ("X-RateLimit-Remaining-Requests", "99"), ("openai-processing-ms", "12"), ("Date", "x"),
        ]
        let fields = ForwardedHeaders.response(
            from: HTTPHeaders(upstream), contentType: "text/event-stream",
            adding: [(HTTPField.Name("x-ratelimit-remaining-requests")!, "7"), (.retryAfter, "1")])
        #expect(
            fields.map { "\($0.name.canonicalName)=\($0.value)" } == [
                "content-type=text/event-stream", "openai-processing-ms=12", "x-ratelimit-remaining-requests=7",
                "retry-after=1",
            ])
    }

    @Test("A whole answer's own fields replace every occurrence of their names; its length and persistence are set")
    func answerFields() throws {
        var fields: HTTPFields = [.contentType: "application/json", .contentLength: "99"]
        fields.append(HTTPField(name: .anthropicRequestID, value: "up-1"))
        fields.append(HTTPField(name: .anthropicRequestID, value: "up-2"))
        fields.append(HTTPField(name: .transferEncoding, value: "gzip"))
        fields.append(HTTPField(name: HTTPField.Name("x-kept")!, value: "1"))
        let channel = try AnswerEncodingTests.codec(.POST)
        ClientAnswerWriter(channel: channel, closesConnection: true, requestID: "req_1", anthropic: true)
            .whole(.ok, fields, body: ByteBuffer(string: "{}"))
        let answer = try AnswerEncodingTests.written(channel)
        let names = answer.split(separator: "\r\n").dropFirst().map { $0.split(separator: ":").first ?? "" }
        #expect(
            names == [
                "Content-Type", "x-kept", "x-request-id", "request-id", "Date", "Server", "content-length",
                "connection", "{}",
            ], "\(answer)")
        #expect(
            answer.contains("\r\nrequest-id: req_1\r\n") && !answer.contains("up-")
                && answer.hasSuffix("\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}"))
        #expect(!channel.isActive)
        // A `connection: close` among the fields closes the connection too; without one it persists.
        for closing in [true, false] {
            let persistent = try AnswerEncodingTests.codec(.POST)
            let fields: HTTPFields = closing ? [.connection: "close"] : [:]
            ClientAnswerWriter(channel: persistent, closesConnection: false, requestID: "req_2", anthropic: false)
                .whole(.ok, fields, body: ByteBuffer())
            let written = try AnswerEncodingTests.written(persistent)
            #expect(written.contains("connection: close") == closing && persistent.isActive != closing, "\(written)")
        }
        var put: HTTPFields = [:]
        put.put(.server, "a")
        put.put(.server, "b")
        #expect(put[values: .server] == ["b"])
    }

    @Test("A stream's head is written as lines: its type, no caching, the upstream's kept headers, the gateway's own")
    func streamHead() throws {
        let channel = try AnswerEncodingTests.codec(.POST)
        let upstream: [(name: String, value: String)] = [
            ("Server", "nginx"), ("Date", "x"), ("Content-Type", "text/plain"), ("OpenAI-Processing-Ms", "12"),
            ("X-RateLimit-Remaining-Requests", "99"), ("bad name", "dropped"), ("Transfer-Encoding", "chunked"),
            ("Cache-Control", "no-cache, must-revalidate"), ("request-id", "req_upstream"),
        ]
        let writer = ClientAnswerWriter(channel: channel, closesConnection: false, requestID: "req_1", anthropic: true)
        writer.startStream(
            contentType: "text/event-stream", forwarding: HTTPHeaders(upstream),
            own: [(HTTPField.Name("x-ratelimit-remaining-requests")!, "7")])
        channel.flush()
        let head = try AnswerEncodingTests.written(channel)
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        #expect(
            lines.map { $0.split(separator: ":").first.map(String.init) ?? "" } == [
                "HTTP/1.1 200 OK", "Content-Type", "Cache-Control", "openai-processing-ms",
                "x-ratelimit-remaining-requests", "x-request-id", "request-id", "Date", "Server", "transfer-encoding",
                "", "",
            ], "\(head)")
        #expect(
            head.contains(
                "\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nopenai-processing-ms: 12\r\n")
                && head.contains(
                    "\r\nx-ratelimit-remaining-requests: 7\r\nx-request-id: req_1\r\nrequest-id: req_1\r\n")
        )
        // A request whose body was left unread: the connection closes after the stream.
        let closing = try AnswerEncodingTests.codec(.POST)
        ClientAnswerWriter(channel: closing, closesConnection: true, requestID: "req_2", anthropic: false)
            .startStream(contentType: "text/event-stream", forwarding: [:], own: [])
        closing.flush()
        let closed = try AnswerEncodingTests.written(closing)
        #expect(
            closed.contains("\r\nx-request-id: req_2\r\n") && !closed.contains("\r\nrequest-id:")
                && closed.hasSuffix("\r\nconnection: close\r\n\r\n"))
    }

    @Test("A lookup finds a name among others of its length and in any spelling, and only that name")
    func lookups() throws {
        let (xa, xb, xab) = try (
            #require(HTTPField.Name("X-A")), #require(HTTPField.Name("x-b")), #require(HTTPField.Name("x-ab"))
        )
        var fields: HTTPFields = [xb: "2", .server: "s", xab: "3"]
        #expect(!fields.holds(xa) && fields.value(of: xa) == nil)
        #expect(fields.holds(xb) && fields.value(of: xb) == "2" && fields.value(of: xab) == "3")
        fields.append(HTTPField(name: xa, value: "1"))
        // Looked up by a name spelt another way, the field sent as `X-A` is found.
        #expect(try fields.value(of: #require(HTTPField.Name("x-a"))) == "1")
        fields.append(HTTPField(name: xb, value: "4"))
        #expect(fields.value(of: xb) == "2, 4")
        fields.put(xb, "5")
        #expect(fields[values: xb] == ["5"] && fields.count == 4)
    }

    @Test("A header name matches ignoring the case of letters only")
    func names() {
        #expect("Content-Length".isHeaderName("content-length"))
        #expect("HOST".isHeaderName("host"))
        #expect(!"Content-Lengt".isHeaderName("content-length"))
        #expect(!"Content-Lengths".isHeaderName("content-length"))
        // Folding every byte with 0x20 would take a carriage return for `-` and `@` for a backquote.
        #expect(!"content\rlength".isHeaderName("content-length"))
        #expect(!"@".isHeaderName("`"))
    }

    @Test("Every dropped name is found in any case, and nothing else is")
    func lookup() {
        for name in ForwardedHeaders.dropped {
            #expect(ForwardedHeaders.isDropped(name) && ForwardedHeaders.isDropped(name.uppercased()))
            for near in [name + "s", String(name.dropLast()), "x" + name.dropFirst()] {
                #expect(ForwardedHeaders.isDropped(near) == ForwardedHeaders.dropped.contains(near), "\(near)")
            }
        }
        #expect(!ForwardedHeaders.isDropped("") && !ForwardedHeaders.isDropped(String(repeating: "x", count: 64)))
    }
}
