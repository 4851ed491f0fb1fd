import NIOCore
import Testing

@testable import SwitchyardCore

@Suite("OpenAI passthrough")
struct PassthroughTests {
    @Test("Only the top-level model is renamed; nested model keys and other bytes stay")
    func rewriteModel() throws {
        let body =
            #"{ "messages":[{"role":"user","content":"{\"model\":\"x\"}","model":"inner"}], "n": 1.50, "model" : "openai/gpt-4o", "z":[{"a":"}"}]}"#
        // The body read from the client starts past bytes already read: offsets are its readable bytes'.
        var buffer = ByteBuffer(string: "read" + body + "after")
        buffer.moveReaderIndex(forwardBy: 4)
        buffer.moveWriterIndex(to: buffer.writerIndex - 5)
        let out = try #require(TopLevelFieldRewriter.replacingString("model", with: "gpt-\"4o", in: buffer))
        #expect(
            String(buffer: out)
                == #"{ "messages":[{"role":"user","content":"{\"model\":\"x\"}","model":"inner"}], "n": 1.50, "model" : "gpt-\"4o", "z":[{"a":"}"}]}"#
        )
    }

    @Test(
        "Rewriting fails cleanly when there is no string model",
        arguments: [#"{"a":1}"#, #"{"model":5}"#, "[]", "", #"{"model""#])
    func rewriteMissing(body: String) {
        #expect(TopLevelFieldRewriter.replacingString("model", with: "x", in: ByteBuffer(string: body)) == nil)
    }

    @Test("A stream that ends with [DONE] finishes cleanly, even when [DONE] is split across chunks")
    func doneSplit() throws {
        let stream = "data: {\"a\":1}\n\ndata: [DONE]\n\n"
        for split in 0...stream.utf8.count {
            var t = UsageTrackingSSETranscoder(hideUsageChunk: true)
            let bytes = Array(stream.utf8)
            var out = ByteBuffer()
            for part in [bytes[..<split], bytes[split...]] {
                if var relayed = try t.transcode(ByteBuffer(bytes: part)) { out.writeBuffer(&relayed) }
            }
            #expect(throws: Never.self) { if var last = try t.finish() { out.writeBuffer(&last) } }
            #expect(String(buffer: out) == stream, "split at \(split)")
        }
    }

    @Test("Each relay says its stream's last event was passed on only once it has been, at every split")
    func delivered() throws {
        let chat = "data: {\"a\":1}\n\ndata: [DONE]\n\n"
        let messages =
            "event: message_start\ndata: {\"type\":\"message_start\"}\n\n"
            + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
        let relays: [(String, () -> any ChatStreamTranscoder)] = [
            (chat, { UsageTrackingSSETranscoder(hideUsageChunk: true) }),
            (messages, { ObservedRelayTranscoder(MessagesStreamObserver()) }),
        ]
        for (stream, make) in relays {
            let bytes = Array(stream.utf8)
            for split in 1..<bytes.count {
                var relay = make()
                _ = try relay.transcode(ByteBuffer(bytes: bytes[..<split]))
                #expect(!relay.delivered, "\(type(of: relay)) at \(split)")
                _ = try relay.transcode(ByteBuffer(bytes: bytes[split...]))
                #expect(relay.delivered, "\(type(of: relay)) at \(split)")
            }
        }
    }

    @Test("A stream cut before [DONE] is reported as a 502")
    func cut() throws {
        var t = UsageTrackingSSETranscoder(hideUsageChunk: true)
        _ = try t.transcode(ByteBuffer(string: "data: {\"a\":1}\n\ndata: {\"b\""))
        #expect(throws: GatewayError.self) { try t.finish() }
        var empty = UsageTrackingSSETranscoder(hideUsageChunk: true)
        #expect(throws: GatewayError.self) { try empty.finish() }
    }

    @Test("The bearer token is read whatever the scheme's case and the blanks around it; other schemes are none")
    func bearerToken() {
        let cases: [(String?, String?)] = [
            ("Bearer sk-abc", "sk-abc"), ("bearer sk-abc", "sk-abc"), ("BEARER\tx", nil),
            ("  Bearer   sk-abc \t", "sk-abc"),
            ("Bearer", nil), ("Bearer ", nil), ("Basic dXNlcg==", nil), ("Bearerx sk", nil), ("Bear sk", nil),
            ("Bearer a b", "a b"), ("Bearer é", "é"), ("", nil), (nil, nil),
        ]
        for (header, token) in cases {
            #expect(ClientContext.bearerToken(in: header) == token, "\(String(describing: header))")
        }
    }

    @Test("Server-side key replaces the client's; without one the client's passes through")
    func credentials() throws {
        let chat = ChatRequestEnvelope(model: "gpt-4o", messages: [["role": "user"]])
        let client = ClientContext(authorization: "Bearer client", requestID: "r1")
        var endpoint = ProviderEndpoint(
            id: "openai", kind: .openai, baseURL: UpstreamBaseURL(tls: false, host: "h", port: 1, pathPrefix: "/v1"))
        let target = ModelRouter.Target(endpoint: endpoint, requestedModel: "gpt-4o", upstreamModel: "gpt-4o")
        let passthrough = try OpenAIAdapter().chatRequest(
            chat, body: ByteBuffer(string: "{}"), target: target, client: client)
        #expect(passthrough.headers.contains { $0 == ("authorization", "Bearer client") })
        #expect(passthrough.headers.contains { $0 == ("x-request-id", "r1") })
        #expect(passthrough.url == "http://h:1/v1/chat/completions")
        endpoint.apiKey = Secret("sk-server")
        let keyed = try OpenAIAdapter().chatRequest(
            chat, body: ByteBuffer(string: "{}"),
            target: .init(endpoint: endpoint, requestedModel: "gpt-4o", upstreamModel: "gpt-4o"),
            client: client)
        #expect(keyed.headers.filter { $0.name == "authorization" }.map(\.value) == ["Bearer sk-server"])
    }
}
