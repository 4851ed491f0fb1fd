import HTTPTypes
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
        let fields = ForwardedHeaders.response(from: upstream, contentType: "application/json")
        #expect(
            fields.map(\.name.canonicalName) == [
                "content-type", "x-ratelimit-remaining-requests", "openai-processing-ms",
            ])
        #expect(fields[.contentType] == "application/json")
        #expect(fields[HTTPField.Name("openai-processing-ms")!] == "12")
    }
}
