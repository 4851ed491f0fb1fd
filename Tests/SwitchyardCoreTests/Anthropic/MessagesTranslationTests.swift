import Foundation
import NIOCore
import Testing

@testable import SwitchyardCore

/// The Anthropic Messages front door's pure conversions: the request into the canonical Chat
/// request, tool ids and names, and whole answers back.
@Suite("Anthropic Messages translation")
struct MessagesTranslationTests {
    static func parse(_ json: String, counting: Bool = false) throws(GatewayError) -> MessagesRequest {
        try MessagesRequest.parse(Array(json.utf8), counting: counting)
    }

    static func chat(_ json: String) throws -> JSONObject {
        try parse(json).chat.get()
    }

    @Test("System blocks, tool use and results, images, sampling and limits become a Chat request")
    func request() throws {
        let chat = try Self.chat(
            #"""
            {"model":"claude-x","max_tokens":100,"temperature":0.5,"top_k":3,"stop_sequences":["a","b","c","d","e"],
             "metadata":{"user_id":"u1"},
             "system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=1;"},
                       {"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],
             "messages":[
              {"role":"user","content":[{"type":"text","text":"Weather?"},
                {"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]},
              {"role":"assistant","content":[{"type":"thinking","thinking":"hm","signature":"s"},
                {"type":"text","text":"Checking."},
                {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}]},
              {"role":"user","content":[{"type":"text","text":"thanks"},
                {"type":"tool_result","tool_use_id":"toolu_1","is_error":true,"content":[{"type":"text","text":"down"}]}]}]}
            """#)
        let messages = try #require(chat["messages"]?.arrayValue)
        #expect(messages.map { $0["role"]?.stringValue } == ["system", "user", "assistant", "tool", "user"])
        #expect(messages[0]["content"] == "Be brief.")
        #expect(messages[1]["content"]?.arrayValue?[1]["image_url"]?["url"] == "data:image/png;base64,AAAA")
        #expect(messages[2]["content"] == "Checking.")
        let call = try #require(messages[2]["tool_calls"]?.arrayValue?.first)
        #expect(call["id"] == "toolu_1" && call["function"]?["name"] == "get_weather")
        #expect(call["function"]?["arguments"] == #"{"city":"Paris"}"#)
        // The tool result comes first, right after the call, and says it failed.
        #expect(messages[3]["tool_call_id"] == "toolu_1" && messages[3]["content"] == "Error: down")
        #expect(messages[4]["content"] == "thanks")
        #expect(chat["max_completion_tokens"] == .number(100) && chat["top_k"] == .number(3))
        #expect(chat["stop"]?.arrayValue?.count == 4 && chat["user"] == "u1")
    }

    @Test("Tools become functions; tool_choice maps; long names are shortened and given back")
    func tools() throws {
        let long = String(repeating: "mcp__server__", count: 6)
        let request = try Self.parse(
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"tools":["#
                + #"{"name":"\#(long)","description":"d","input_schema":{"type":"object"},"type":"custom"},"#
                + #"{"type":"web_search_20250305","name":"web_search"}],"#
                + #""tool_choice":{"type":"tool","name":"\#(long)","disable_parallel_tool_use":true}}"#)
        let chat = try request.chat.get()
        let functions = try #require(chat["tools"]?.arrayValue)
        #expect(functions.count == 1, "the server tool is dropped")
        let short = try #require(functions[0]["function"]?["name"]?.stringValue)
        #expect(short.count == 64 && short != long)
        #expect(functions[0]["function"]?["parameters"] == ["type": "object"])
        #expect(chat["tool_choice"]?["function"]?["name"]?.stringValue == short)
        #expect(chat["parallel_tool_calls"] == .bool(false))
        #expect(request.clientToolName(short) == long)
        for (choice, expected) in [("auto", "auto"), ("any", "required"), ("none", "none")] {
            let chat = try Self.chat(
                #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"#
                    + #""tools":[{"name":"t","input_schema":{}}],"tool_choice":{"type":"\#(choice)"}}"#)
            #expect(chat["tool_choice"]?.stringValue == expected)
        }
    }

    @Test("Missing fields, bad roles, bad thinking budgets and prefill are 400s; documents wait for the upstream")
    func refusals() throws {
        let messages = #""messages":[{"role":"user","content":"hi"}]"#
        for body in [
            #"{"model":"m",\#(messages)}"#, #"{"max_tokens":5,\#(messages)}"#, #"{"model":"m","max_tokens":5}"#,
            #"{"model":"m","max_tokens":5,"messages":[{"role":"robot","content":"hi"}]}"#,
            #"{"model":"m","max_tokens":5000,"thinking":{"type":"enabled","budget_tokens":100},\#(messages)}"#,
        ] {
            #expect(throws: GatewayError.self, "\(body)") { try Self.parse(body) }
        }
        #expect(throws: GatewayError.self) {
            try Self.chat(
                #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"},"#
                    + #"{"role":"assistant","content":"The answer is"}]}"#)
        }
        // count_tokens has no max_tokens.
        #expect(try Self.parse(#"{"model":"m",\#(messages)}"#, counting: true).maxTokens == nil)
        // A document cannot be translated, but the request still parses for an Anthropic upstream.
        let document = try Self.parse(
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","#
                + #""source":{"type":"url","url":"https://x/a.pdf"}}]}]}"#)
        guard case .failure(let error) = document.chat else {
            Issue.record("a document was translated")
            return
        }
        #expect(error.status == 400 && error.message.contains("messages.0.content.0.type"))
    }

    @Test("Tool ids outside Anthropic's alphabet are wrapped reversibly; plain ids pass")
    func toolIDs() {
        for id in ["call_abc~ts~c2ln/YWJj==", "functions.Bash:0", "toolu_sywrapped-looking"] {
            let client = ToolIdentity.clientID(id)
            #expect(client.wholeMatch(of: /[a-zA-Z0-9_-]+/) != nil, "\(client)")
            #expect(ToolIdentity.upstreamID(client) == id)
        }
        #expect(ToolIdentity.clientID("toolu_01A") == "toolu_01A")
        #expect(ToolIdentity.upstreamID("toolu_01A") == "toolu_01A")
    }

    @Test("A whole answer becomes a message: text, tool use with parsed input, stop reasons, usage")
    func answer() throws {
        let request = try Self.parse(
            #"{"model":"claude-x","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#)
        func message(_ choice: String) throws -> JSONObject {
            let completion =
                #"{"id":"c","object":"chat.completion","created":1,"model":"up","choices":[\#(choice)],"#
                + #""usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}"#
            let converted = try ChatToMessages.message(ByteBuffer(string: completion), request: request)
            #expect(converted.usage == TokenUsage(promptTokens: 7, completionTokens: 3))
            return try #require(try JSONParser.parse(converted.body.readableBytesView).objectValue)
        }
        let text = try message(#"{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}"#)
        #expect(text["model"] == "claude-x" && text["stop_reason"] == "end_turn")
        #expect(text["content"] == [["type": "text", "text": "Hi"]])
        #expect(text["usage"]?["input_tokens"] == .number(7) && text["usage"]?["output_tokens"] == .number(3))
        #expect(text["id"]?.stringValue?.hasPrefix("msg_") == true)
        // A tool call makes it tool_use whatever the provider said; bad arguments become {}.
        let tool = try message(
            #"{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call~1","type":"function","#
                + #""function":{"name":"f","arguments":"not json"}}]},"finish_reason":"stop"}"#)
        #expect(tool["stop_reason"] == "tool_use")
        let block = try #require(tool["content"]?.arrayValue?.first)
        #expect(block["input"] == [:] && block["id"]?.stringValue.map(ToolIdentity.upstreamID) == "call~1")
        #expect(
            try message(#"{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":"length"}"#)[
                "stop_reason"] == "max_tokens")
        #expect(
            try message(#"{"index":0,"message":{"role":"assistant","content":""},"finish_reason":"tool_calls"}"#)[
                "stop_reason"] == "end_turn")
    }

    @Test("Errors take Anthropic's types; the gateway's overload is 529")
    func errors() throws {
        let cases: [(Int, Int, String)] = [
            (400, 400, "invalid_request_error"), (401, 401, "authentication_error"), (403, 403, "permission_error"),
            (404, 404, "not_found_error"), (413, 413, "request_too_large"), (429, 429, "rate_limit_error"),
            (500, 500, "api_error"), (502, 502, "api_error"), (503, 529, "overloaded_error"),
            (504, 504, "timeout_error"),
        ]
        for (status, anthropic, type) in cases {
            let error = GatewayError(status: status, type: "x", message: "m")
            #expect(error.anthropicStatus == anthropic && error.anthropicType == type)
            let body = try JSONParser.parse(error.anthropicBody(requestID: "req_1"))
            #expect(body["type"] == "error" && body["error"]?["type"]?.stringValue == type)
            #expect(body["error"]?["message"] == "m" && body["request_id"] == "req_1")
        }
    }

    @Test("A provider's context overflow reads as Anthropic's `prompt is too long`, which Claude Code acts on")
    func contextOverflow() {
        let openAI = GatewayError(
            status: 400, type: "invalid_request_error",
            message:
                "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens. Please reduce the length of the messages.",
            code: "context_length_exceeded")
        #expect(openAI.anthropicMessage == "prompt is too long: 130512 tokens > 128000 maximum")
        let gemini = GatewayError(
            status: 400, type: "invalid_request_error",
            message: "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).")
        #expect(gemini.anthropicMessage == "prompt is too long: 1200000 tokens > 1048576 maximum")
        let other = GatewayError(status: 400, type: "invalid_request_error", message: "messages: bad role")
        #expect(other.anthropicMessage == "messages: bad role")
        #expect(other.anthropicError["message"] == "messages: bad role")
    }

    @Test("count_tokens counts the translated prompt with a margin, never 0")
    func count() throws {
        let counter = try ChatTokenCounter(model: "gpt-4o")
        let small = try Self.parse(#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#, counting: true)
        let larger = try Self.parse(
            #"{"model":"m","system":"Be brief and exact.","messages":[{"role":"user","content":"hi"}]}"#,
            counting: true)
        let plain = small.inputTokens(counter: counter, bodySize: 0)
        #expect(plain > 0 && plain < larger.inputTokens(counter: counter, bodySize: 0))
        let counted = counter.promptTokens(messages: try small.chat.get()["messages"]?.arrayValue ?? [])
        #expect(plain == Int((Double(counted) * MessagesRequest.countMargin).rounded(.up)))
        #expect(small.inputTokens(counter: nil, bodySize: 0) == 1)
    }
}
