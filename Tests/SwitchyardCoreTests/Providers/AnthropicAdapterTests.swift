import Foundation
import NIOCore
import Testing

@testable import SwitchyardCore

@Suite("Anthropic adapter")
struct AnthropicAdapterTests {
    let adapter = AnthropicAdapter()

    @Test("The rich request converts field by field")
    func request() throws {
        let chat = try ChatRequestEnvelope.parse(Data(richRequest.utf8))
        var t = target(.anthropic, "M", upstream: "claude-3-5-sonnet-latest")
        t.endpoint.apiKey = Secret("sk-ant")
        let request = try adapter.chatRequest(
            chat, body: ByteBuffer(string: richRequest), target: t, client: testClient)
        #expect(request.url == "http://up:1/v1/messages")
        #expect(request.headers.contains { $0 == ("anthropic-version", "2023-06-01") })
        #expect(request.headers.filter { $0.name == "x-api-key" }.map(\.value) == ["sk-ant"])
        #expect(!request.headers.contains { $0.name == "authorization" })
        let b = body(request)
        #expect(b["model"] == "claude-3-5-sonnet-latest")
        #expect(b["max_tokens"] == .number(256))
        #expect(b["temperature"] == .number(1))
        #expect(b["top_p"] == .number(0.9))
        #expect(b["stop_sequences"] == ["\n\n"])
        #expect(b["metadata"] == ["user_id": "u-42"])
        #expect(b["tool_choice"] == ["type": "tool", "name": "get_weather"])
        #expect(b["seed"] == nil)
        #expect(b["stream"] == nil)
        let system = try #require(b["system"]?.stringValue)
        #expect(system.hasPrefix("Be brief.\n\nUse metric units.\n\nRespond with a single JSON object that conforms"))
        let expectedMessages = json(
            #"""
            [{"role": "user", "content": [{"type": "text", "text": "What is in this image?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"}}]},
             {"role": "assistant", "content": [{"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}]},
             {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "{\"temp\":21}"},
                                          {"type": "text", "text": "And tomorrow?"}]}]
            """#)
        #expect(b["messages"] == expectedMessages)
        #expect(b["tools"]?.arrayValue?.first?["input_schema"]?["required"] == ["city"])
    }

    @Test("Without max_tokens the documented default is sent; remote images become url sources")
    func defaults() throws {
        let text =
            #"{"model":"claude-x","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}"#
        let request = try adapter.chatRequest(
            try ChatRequestEnvelope.parse(Data(text.utf8)), body: ByteBuffer(string: text),
            target: target(.anthropic, "claude-x"), client: testClient)
        #expect(body(request)["max_tokens"] == .number(Double(AnthropicAdapter.defaultMaxTokens)))
        #expect(
            body(request)["messages"]?.arrayValue?.first?["content"]
                == json(#"[{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]"#))
        #expect(request.headers.contains { $0 == ("x-api-key", "client-key") })
    }

    @Test("n > 1 is a 400, not silently one choice")
    func manyChoices() {
        let text = #"{"model":"claude-x","n":2,"messages":[{"role":"user","content":"hi"}]}"#
        #expect {
            try adapter.chatRequest(
                try ChatRequestEnvelope.parse(Data(text.utf8)), body: ByteBuffer(string: text),
                target: target(.anthropic, "claude-x"), client: testClient)
        } throws: { ($0 as? GatewayError)?.param == "n" }
    }

    @Test("A response with text and a tool call converts, usage includes cached input")
    func response() throws {
        let answer =
            #"{"id":"msg_01","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}],"stop_reason":"tool_use","usage":{"input_tokens":12,"output_tokens":3,"cache_read_input_tokens":5}}"#
        let out = try adapter.chatResponse(
            ByteBuffer(string: answer), chat: ChatRequestEnvelope(model: "claude-x", messages: [["role": "user"]]))
        let j = json(String(buffer: out.body))
        let message = j["choices"]?.arrayValue?.first?["message"]
        #expect(message?["content"] == "Let me check.")
        #expect(
            message?["tool_calls"]
                == json(
                    #"[{"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]"#
                ))
        #expect(j["choices"]?.arrayValue?.first?["finish_reason"] == "tool_calls")
        #expect(j["model"] == "claude-x")
        #expect(j["object"] == "chat.completion")
        #expect(out.usage == TokenUsage(promptTokens: 17, completionTokens: 3, cachedTokens: 5))
    }

    @Test(
        "stop_reason maps to OpenAI's",
        arguments: [
            ("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"), ("tool_use", "tool_calls"),
            ("refusal", "content_filter"),
        ])
    func finishReasons(reason: String, expected: String) {
        #expect(AnthropicAdapter.finishReason(reason) == expected)
    }

    @Test(
        "Error types map to statuses; overloaded (529) becomes 503",
        arguments: [
            ("invalid_request_error", 400, 400), ("authentication_error", 401, 401), ("permission_error", 403, 403),
            ("not_found_error", 404, 404), ("request_too_large", 413, 413), ("rate_limit_error", 429, 429),
            ("api_error", 500, 500), ("overloaded_error", 529, 503),
        ])
    func errors(type: String, status: Int, expected: Int) {
        let e = adapter.upstreamError(
            status: status, body: ByteBuffer(string: #"{"type":"error","error":{"type":"\#(type)","message":"m"}}"#))
        #expect(e.status == expected)
        #expect(e.message == "m")
    }

    static func event(_ name: String, _ data: String) -> String { "event: \(name)\ndata: \(data)\n\n" }

    static let stream =
        event(
            "message_start",
            #"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude","usage":{"input_tokens":25,"output_tokens":1}}}"#
        )
        + event(
            "content_block_start",
            #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#)
        + event("ping", #"{"type":"ping"}"#)
        + event(
            "content_block_delta",
            #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Checking "}}"#)
        + event(
            "content_block_delta",
            #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"the weather… ☀️"}}"#)
        + event("content_block_stop", #"{"type":"content_block_stop","index":0}"#)
        + event(
            "content_block_start",
            #"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_A","name":"get_weather","input":{}}}"#
        )
        + event(
            "content_block_delta",
            #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Pa"}}"#
        )
        + event(
            "content_block_delta",
            #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"ris\"}"}}"#)
        + event("content_block_stop", #"{"type":"content_block_stop","index":1}"#)
        + event(
            "content_block_start",
            #"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_B","name":"get_time","input":{}}}"#
        )
        + event(
            "content_block_delta",
            #"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{}"}}"#)
        + event("content_block_stop", #"{"type":"content_block_stop","index":2}"#)
        + event(
            "message_delta",
            #"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":42}}"#
        )
        + event("message_stop", #"{"type":"message_stop"}"#)

    @Test("The event stream converts identically at every byte split; tool calls are numbered 0 and 1")
    func streamEverySplit() throws {
        let chat = ChatRequestEnvelope(
            model: "claude-x", messages: [["role": "user"]], stream: true, includeUsage: true)
        let out = try StreamHarness.everySplit(adapter, chat: chat, stream: Self.stream)
        #expect(StreamHarness.text(out) == "Checking the weather… ☀️")
        #expect(
            StreamHarness.toolCalls(out).map { "\($0.0) \($0.1) \($0.2)" } == [
                #"0 get_weather {"city": "Paris"}"#, "1 get_time {}",
            ])
        #expect(StreamHarness.finishReasons(out) == ["tool_calls"])
        #expect(StreamHarness.usage(out) == json(#"{"prompt_tokens":25,"completion_tokens":42,"total_tokens":67}"#))
        #expect(out.last == "[DONE]")
    }

    @Test("Tool-call ids pass through unchanged in the stream")
    func streamIDs() throws {
        var transcoder = adapter.makeChatStreamTranscoder(
            chat: ChatRequestEnvelope(model: "c", messages: [], stream: true))
        let out = String(buffer: try #require(try transcoder.transcode(ByteBuffer(string: Self.stream))))
        #expect(out.contains(#""id":"toolu_A""#))
        #expect(out.contains(#""id":"toolu_B""#))
    }

    @Test("An error event mid-stream ends the stream with that error")
    func midStreamError() {
        let chat = ChatRequestEnvelope(model: "claude-x", messages: [["role": "user"]], stream: true)
        let stream =
            Self.stream.components(separatedBy: "event: content_block_stop").first!
            + Self.event("error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)
        let result = StreamHarness.run(adapter, chat: chat, chunks: [Array(stream.utf8)])
        guard case .failure(let error) = result else {
            Issue.record("expected an error")
            return
        }
        #expect(error.status == 503)
        #expect(error.message == "Overloaded")
    }

    @Test("A stream cut before message_stop is an error")
    func cut() {
        let chat = ChatRequestEnvelope(model: "claude-x", messages: [["role": "user"]], stream: true)
        let stream = Self.stream.components(separatedBy: "event: message_stop").first!
        #expect(throws: GatewayError.self) {
            try StreamHarness.run(adapter, chat: chat, chunks: [Array(stream.utf8)]).get()
        }
    }

    @Test("Embeddings are a clear 400")
    func noEmbeddings() {
        #expect {
            try adapter.embeddingsRequest(
                body: ByteBuffer(string: "{}"), target: target(.anthropic, "claude-x"), client: testClient)
        } throws: { ($0 as? GatewayError)?.status == 400 }
    }
}
