import Foundation
import NIOCore
import Testing

@testable import SwitchyardCore

/// The Responses front door's pure conversions: the request into the canonical Chat request, and
/// whole answers back into `response` objects.
@Suite("Responses translation")
struct ResponsesTranslationTests {
    static func parse(_ json: String) throws(GatewayError) -> ResponsesRequest {
        try ResponsesRequest.parse(Array(json.utf8))
    }

    @Test("Instructions, messages, images, calls joined into their turn, outputs as tool messages, formats")
    func request() throws {
        let request = try Self.parse(
            #"""
            {"model":"m","instructions":"Be brief.","max_output_tokens":50,"temperature":0.2,"store":false,
             "text":{"format":{"type":"json_schema","name":"place","schema":{"type":"object"},"strict":true}},
             "input":[{"role":"user","content":[{"type":"input_text","text":"Weather?"},
                       {"type":"input_image","image_url":"data:image/png;base64,AA","detail":"original"}]},
                      {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Checking."}]},
                      {"type":"reasoning","summary":[],"encrypted_content":"x"},
                      {"type":"function_call","call_id":"c1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"},
                      {"type":"function_call_output","call_id":"c1","output":"21"}],
             "client_metadata":{"ignored":true}}
            """#)
        #expect(request.store == false && request.inputItems.allSatisfy { $0["id"] != nil })
        let chat = try request.chat()
        let messages = try #require(chat["messages"]?.arrayValue)
        #expect(messages.map { $0["role"]?.stringValue } == ["system", "user", "assistant", "tool"])
        #expect(messages[1]["content"]?.arrayValue?[1]["image_url"]?["detail"] == "high")
        #expect(messages[2]["content"] == "Checking.")
        #expect(messages[2]["tool_calls"]?.arrayValue?.first?["id"] == "c1")
        #expect(messages[3]["tool_call_id"] == "c1" && messages[3]["content"] == "21")
        #expect(chat["max_completion_tokens"] == .number(50) && chat["temperature"] == .number(0.2))
        #expect(chat["response_format"]?["json_schema"]?["name"] == "place")
        #expect(chat["response_format"]?["json_schema"]?["strict"] == .bool(true))
    }

    @Test("Flat, nested and custom tools become functions; tool_choice maps; hosted tools are 400s")
    func tools() throws {
        let chat = try Self.parse(
            #"{"model":"m","input":"hi","tools":[{"type":"function","name":"a","parameters":null},"#
                + #"{"type":"function","function":{"name":"b","parameters":{"type":"object"}}},"#
                + #"{"type":"custom","name":"apply_patch","description":"Patch","format":{"type":"text"}}],"#
                + #""tool_choice":{"type":"allowed_tools","mode":"required","tools":[{"type":"function","name":"a"},"#
                + #"{"type":"custom","name":"apply_patch"}]}}"#
        ).chat()
        let names = (chat["tools"]?.arrayValue ?? []).compactMap { $0["function"]?["name"]?.stringValue }
        #expect(names == ["a", "apply_patch"])
        #expect(chat["tools"]?.arrayValue?[0]["function"]?["parameters"]?["type"] == "object")
        #expect(chat["tools"]?.arrayValue?[1]["function"]?["parameters"]?["required"] == ["input"])
        #expect(chat["tool_choice"] == "required")
        let forced = try Self.parse(
            #"{"model":"m","input":"hi","tools":[{"type":"function","name":"a"}],"#
                + #""tool_choice":{"type":"function","name":"a"}}"#
        ).chat()
        #expect(forced["tool_choice"]?["function"]?["name"] == "a")
        for body in [
            #"{"model":"m","input":"hi","tools":[{"type":"web_search"}]}"#,
            #"{"model":"m","input":"hi","tool_choice":{"type":"web_search_preview"}}"#,
            #"{"model":"m","input":[{"type":"computer_call","call_id":"x"}]}"#,
            #"{"model":"m","input":[{"role":"user","content":[{"type":"input_image","file_id":"f"}]}]}"#,
            #"{"model":"m","input":[{"type":"function_call_output","call_id":"nobody","output":"x"}]}"#,
            #"{"model":"m","input":"hi","background":true}"#, #"{"input":"hi"}"#,
        ] {
            #expect(throws: GatewayError.self, "\(body)") { try Self.parse(body) }
        }
        // An output answering a call of the response it continues waits until that is loaded.
        #expect(
            try Self.parse(
                #"{"model":"m","previous_response_id":"resp_1","input":[{"type":"function_call_output","call_id":"c","output":"x"}]}"#
            ).previousResponseID == "resp_1")
    }

    @Test("Custom tool calls go back out with their input; the continuation replays the exchange")
    func custom() throws {
        var request = try Self.parse(
            #"{"model":"m","input":"patch it","tools":[{"type":"custom","name":"apply_patch"}]}"#)
        let completion =
            #"{"id":"c","object":"chat.completion","created":1,"model":"up","choices":[{"index":0,"#
            + #""message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_9","type":"function","#
            + #""function":{"name":"apply_patch","arguments":"{\"input\":\"*** Begin Patch\"}"}}]},"#
            + #""finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}"#
        let answer = try ChatToResponses.response(ByteBuffer(string: completion), to: request)
        let output = try #require(answer.document["output"]?.arrayValue)
        #expect(output.count == 1 && output[0]["type"] == "custom_tool_call")
        #expect(output[0]["input"] == "*** Begin Patch" && output[0]["call_id"] == "call_9")
        #expect(output[0]["id"]?.stringValue?.hasPrefix("ctc_") == true)
        let conversation = try request.conversation(adding: output)
        #expect(conversation.map { $0["role"]?.stringValue } == ["user", "assistant"])
        request.history = conversation
        request.inputItems = [["type": "custom_tool_call_output", "call_id": "call_9", "output": "done"]]
        let messages = try #require(try request.chat()["messages"]?.arrayValue)
        #expect(messages.last?["tool_call_id"] == "call_9")
        #expect(
            messages[1]["tool_calls"]?.arrayValue?.first?["function"]?["arguments"]
                == #"{"input":"*** Begin Patch"}"#)
    }

    @Test("A whole answer: message and call items, status from the finish reason, usage with its details")
    func answer() throws {
        let request = try Self.parse(#"{"model":"asked","input":"hi","metadata":{"k":"v"}}"#)
        func response(
            _ choice: String, usage: String = #"{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}"#
        )
            throws -> JSONObject
        {
            let completion =
                #"{"id":"c","object":"chat.completion","created":1,"model":"up","choices":[\#(choice)],"usage":\#(usage)}"#
            return try #require(
                try ChatToResponses.response(ByteBuffer(string: completion), to: request).document.objectValue)
        }
        let text = try response(
            #"{"index":0,"message":{"role":"assistant","content":"Hi","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"stop"}"#,
            usage:
                #"{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":2}}"#
        )
        #expect(text["status"] == "completed" && text["model"] == "asked" && text["metadata"] == ["k": "v"])
        #expect(text["id"]?.stringValue?.hasPrefix("resp_") == true && text["completed_at"] != nil)
        let output = try #require(text["output"]?.arrayValue)
        #expect(output.map { $0["type"]?.stringValue } == ["message", "function_call"])
        #expect(output[1]["call_id"] == "call_1" && output[1]["id"]?.stringValue?.hasPrefix("fc_") == true)
        #expect(text["usage"]?["input_tokens_details"]?["cached_tokens"] == .number(4))
        #expect(text["usage"]?["output_tokens_details"]?["reasoning_tokens"] == .number(2))
        #expect(text["usage"]?["total_tokens"] == .number(12))
        let cut = try response(#"{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"length"}"#)
        #expect(cut["status"] == "incomplete" && cut["incomplete_details"]?["reason"] == "max_output_tokens")
        let empty = try response(#"{"index":0,"message":{"role":"assistant","content":""},"finish_reason":"stop"}"#)
        #expect(empty["output"]?.arrayValue?.count == 1, "an empty answer still has its message item")
    }
}
