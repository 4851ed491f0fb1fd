import Foundation
import NIOCore
import Testing

@testable import SwitchyardCore

@Suite("Ollama adapter")
struct OllamaAdapterTests {
    let adapter = OllamaAdapter()

    @Test("The rich request converts field by field")
    func request() throws {
        let text = richRequest.replacingOccurrences(
            of: #""tool_choice": {"type": "function", "function": {"name": "get_weather"}},"#, with: "")
        let chat = try ChatRequestEnvelope.parse(Data(text.utf8))
        let request = try adapter.chatRequest(
            chat, body: ByteBuffer(string: text), target: target(.ollama, "M", upstream: "llama3.2"), client: testClient
        )
        #expect(request.url == "http://up:1/api/chat")
        let b = body(request)
        #expect(b["model"] == "llama3.2")
        #expect(b["stream"] == .bool(false))
        #expect(b["options"] == json(#"{"temperature":1.4,"top_p":0.9,"num_predict":256,"stop":["\n\n"],"seed":7}"#))
        #expect(
            b["format"]
                == json(#"{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":false}"#))
        let expectedMessages = json(
            #"""
            [{"role": "system", "content": "Be brief."}, {"role": "system", "content": "Use metric units."},
             {"role": "user", "content": "What is in this image?", "images": ["iVBOR"]},
             {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
             {"role": "tool", "content": "{\"temp\":21}", "tool_name": "get_weather"},
             {"role": "user", "content": "And tomorrow?"}]
            """#)
        #expect(b["messages"] == expectedMessages)
        #expect(b["tools"]?.arrayValue?.first?["function"]?["name"] == "get_weather")
    }

    @Test("Streaming requests say stream true; tool_choice none sends no tools; json_object is format json")
    func streamAndOptions() throws {
        let text =
            #"{"model":"m","stream":true,"tool_choice":"none","response_format":{"type":"json_object"},"tools":[{"type":"function","function":{"name":"f"}}],"messages":[{"role":"user","content":"hi"}]}"#
        let b = body(
            try adapter.chatRequest(
                try ChatRequestEnvelope.parse(Data(text.utf8)), body: ByteBuffer(string: text),
                target: target(.ollama, "m"), client: testClient))
        #expect(b["stream"] == .bool(true))
        #expect(b["tools"] == nil)
        #expect(b["format"] == "json")
    }

    @Test("Tool arguments that are not a JSON object are a 400")
    func badArguments() {
        let text =
            #"{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"[1"}}]}]}"#
        #expect {
            try adapter.chatRequest(
                try ChatRequestEnvelope.parse(Data(text.utf8)), body: ByteBuffer(string: text),
                target: target(.ollama, "m"), client: testClient)
        } throws: { ($0 as? GatewayError)?.status == 400 }
    }

    @Test("A non-streamed answer with a tool call converts; arguments become a JSON string")
    func response() throws {
        let answer =
            #"{"model":"llama3.2","created_at":"2026-11-24T12:00:00Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},"done":true,"done_reason":"stop","prompt_eval_count":26,"eval_count":3}"#
        let out = try adapter.chatResponse(
            ByteBuffer(string: answer), chat: ChatRequestEnvelope(model: "llama3.2", messages: [["role": "user"]]))
        let choice = json(String(buffer: out.body))["choices"]?.arrayValue?.first
        #expect(choice?["finish_reason"] == "tool_calls")
        #expect(choice?["message"]?["tool_calls"]?.arrayValue?.first?["function"]?["arguments"] == #"{"city":"Paris"}"#)
        #expect(choice?["message"]?["tool_calls"]?.arrayValue?.first?["id"]?.stringValue?.hasPrefix("call_") == true)
        #expect(out.usage == TokenUsage(promptTokens: 26, completionTokens: 3))
    }

    @Test(
        "done_reason maps to OpenAI's",
        arguments: [
            ("stop", false, "stop"), ("length", false, "length"), ("stop", true, "tool_calls"), (nil, false, "stop"),
        ] as [(String?, Bool, String)])
    func finishReasons(reason: String?, toolCalls: Bool, expected: String) {
        #expect(OllamaAdapter.finishReason(reason, hasToolCalls: toolCalls) == expected)
    }

    static let stream =
        [
            #"{"model":"llama3.2","created_at":"t","message":{"role":"assistant","content":"Hel"},"done":false}"#,
            #"{"model":"llama3.2","created_at":"t","message":{"role":"assistant","content":"lo — ünïcödé"},"done":false}"#,
            #"{"model":"llama3.2","created_at":"t","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{"a":1}}},{"function":{"name":"g","arguments":{}}}]},"done":false}"#,
            #"{"model":"llama3.2","created_at":"t","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":10,"eval_count":7}"#,
        ].joined(separator: "\n") + "\n"

    @Test("The NDJSON stream converts identically at every byte split")
    func streamEverySplit() throws {
        let chat = ChatRequestEnvelope(
            model: "llama3.2", messages: [["role": "user"]], stream: true, includeUsage: true)
        let out = try StreamHarness.everySplit(adapter, chat: chat, stream: Self.stream)
        #expect(StreamHarness.text(out) == "Hello — ünïcödé")
        #expect(StreamHarness.toolCalls(out).map { "\($0.0) \($0.1) \($0.2)" } == [#"0 f {"a":1}"#, "1 g {}"])
        #expect(StreamHarness.finishReasons(out) == ["tool_calls"])
        #expect(StreamHarness.usage(out) == json(#"{"prompt_tokens":10,"completion_tokens":7,"total_tokens":17}"#))
    }

    @Test("Without include_usage no usage chunk is sent")
    func noUsageChunk() throws {
        let chat = ChatRequestEnvelope(model: "llama3.2", messages: [["role": "user"]], stream: true)
        let out = try StreamHarness.run(adapter, chat: chat, chunks: [Array(Self.stream.utf8)]).get()
        #expect(StreamHarness.usage(out) == nil)
        #expect(!out.joined().contains("usage"))
    }

    @Test("An error line mid-stream and a stream without done are errors")
    func errors() {
        let chat = ChatRequestEnvelope(model: "llama3.2", messages: [["role": "user"]], stream: true)
        let first = Self.stream.components(separatedBy: "\n")[0]
        let withError = first + "\n" + #"{"error":"model ran out of memory"}"# + "\n"
        guard case .failure(let e) = StreamHarness.run(adapter, chat: chat, chunks: [Array(withError.utf8)]) else {
            Issue.record("expected an error")
            return
        }
        #expect(e.message.contains("out of memory"))
        #expect(throws: GatewayError.self) {
            try StreamHarness.run(adapter, chat: chat, chunks: [Array((first + "\n").utf8)]).get()
        }
    }

    @Test("Upstream errors keep status and message")
    func upstreamError() {
        let e = adapter.upstreamError(
            status: 404, body: ByteBuffer(string: #"{"error":"model \"x\" not found, try pulling it first"}"#))
        #expect(e.status == 404)
        #expect(e.code == "model_not_found")
        #expect(e.message == #"model "x" not found, try pulling it first"#)
    }

    @Test("Embeddings use /api/embed")
    func embeddings() throws {
        let request = ByteBuffer(string: #"{"model":"nomic","input":"hello"}"#)
        let up = try adapter.embeddingsRequest(body: request, target: target(.ollama, "nomic"), client: testClient)
        #expect(up.url == "http://up:1/api/embed")
        #expect(body(up) == json(#"{"model":"nomic","input":["hello"]}"#))
        let out = json(
            String(
                buffer: try adapter.embeddingsResponse(
                    ByteBuffer(string: #"{"model":"nomic","embeddings":[[0.5,0.25]],"prompt_eval_count":2}"#),
                    request: request
                ).body))
        #expect(out["data"]?.arrayValue?.first?["embedding"] == [.number(0.5), .number(0.25)])
        #expect(out["usage"]?["prompt_tokens"] == .number(2))
    }
}
