import HTTPTypes
import NIOEmbedded
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
        let fields = ForwardedHeaders.response(from: upstream, contentType: "application/json", adding: [])
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
            from: upstream, contentType: "text/event-stream",
            adding: [(HTTPField.Name("x-ratelimit-remaining-requests")!, "7"), (.retryAfter, "1")])
        #expect(
            fields.map { "\($0.name.canonicalName)=\($0.value)" } == [
                "content-type=text/event-stream", "openai-processing-ms=12", "x-ratelimit-remaining-requests=7",
                "retry-after=1",
            ])
    }

    @Test("An answer's own fields are appended when absent and replace every occurrence when present")
    func answerFields() {
        var fields: HTTPFields = [.contentType: "application/json"]
        fields.append(HTTPField(name: .anthropicRequestID, value: "up-1"))
        fields.append(HTTPField(name: .anthropicRequestID, value: "up-2"))
        let writer = ClientAnswerWriter(
            channel: EmbeddedChannel(), closesConnection: true, requestID: "req_1", anthropic: true)
        let head = writer.head(.ok, fields)
        let names = head.headerFields.map(\.name.canonicalName)
        #expect(
            names == ["content-type", "request-id", "x-request-id", "date", "server", "connection"],
            "\(names)")
        #expect(head.headerFields[values: .anthropicRequestID] == ["req_1"])
        #expect(head.headerFields[.requestID] == "req_1" && head.headerFields[.connection] == "close")
        var put: HTTPFields = [:]
        put.put(.server, "a")
        put.put(.server, "b")
        #expect(put[values: .server] == ["b"])
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
