import Foundation
import NIOCore
import Testing

@testable import SwitchyardCore

@Suite("Gemini adapter")
struct GeminiAdapterTests {
    let adapter = GeminiAdapter()

    @Test(
        "Model names become one path segment, encoded as Foundation's path encoding minus / ? # :",
        arguments: ["gemini-2.0-flash", "tuned/models:x", "a b?c#d", "modèle-ü", "x%y", "~ok!$&'()*+,;=@"])
    func pathSafe(model: String) {
        let foundation = model.addingPercentEncoding(
            withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#:")))
        #expect(GeminiAdapter.pathSafe(model) == foundation)
    }

    @Test("The rich request converts field by field")
    func request() throws {
        let chat = try ChatRequestEnvelope.parse(Data(richRequest.utf8))
        let request = try adapter.chatRequest(
            chat, body: ByteBuffer(string: richRequest), target: target(.gemini, "M", upstream: "gemini-2.0-flash"),
            client: testClient)
        #expect(request.url == "http://up:1/v1beta/models/gemini-2.0-flash:generateContent")
        #expect(request.headers.contains { $0 == ("x-goog-api-key", "client-key") })
        let expected = json(
            #"""
            {"systemInstruction": {"parts": [{"text": "Be brief."}, {"text": "Use metric units."}]},
             "contents": [
               {"role": "user", "parts": [{"text": "What is in this image?"}, {"inlineData": {"mimeType": "image/png", "data": "iVBOR"}}]},
               {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]},
               {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"temp": 21}}}, {"text": "And tomorrow?"}]}],
             "tools": [{"functionDeclarations": [{"name": "get_weather", "description": "Weather now",
                        "parameters": {"type": "object", "properties": {"city": {"type": "string"},
                                       "unit": {"type": "string", "nullable": true, "enum": ["C", "F"]}}, "required": ["city"]}}]}],
             "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}},
             "generationConfig": {"temperature": 1.4, "topP": 0.9, "maxOutputTokens": 256, "stopSequences": ["\n\n"], "seed": 7,
                                  "responseMimeType": "application/json",
                                  "responseSchema": {"type": "object", "properties": {"a": {"type": "integer"}}}}}
            """#)
        #expect(body(request) == expected)
    }

    @Test("Streaming uses streamGenerateContent with alt=sse; the server key beats the client's")
    func streamURL() throws {
        let text = #"{"model":"gemini-x","stream":true,"messages":[{"role":"user","content":"hi"}]}"#
        var t = target(.gemini, "gemini-x")
        t.endpoint.apiKey = Secret("server-key")
        let request = try adapter.chatRequest(
            try ChatRequestEnvelope.parse(Data(text.utf8)), body: ByteBuffer(string: text), target: t,
            client: testClient)
        #expect(request.url == "http://up:1/v1beta/models/gemini-x:streamGenerateContent?alt=sse")
        #expect(request.headers.filter { $0.name == "x-goog-api-key" }.map(\.value) == ["server-key"])
    }

    @Test("A thoughtSignature survives the round trip through the OpenAI tool-call id")
    func thoughtSignature() throws {
        let answer =
            #"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"f","args":{"x":1}},"thoughtSignature":"c2lnbmF0dXJl+/="}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":2,"thoughtsTokenCount":7}}"#
        let chat = ChatRequestEnvelope(model: "gemini-2.5-pro", messages: [["role": "user"]])
        let converted = try adapter.chatResponse(ByteBuffer(string: answer), chat: chat)
        let out = json(String(buffer: converted.body))
        let choice = try #require(out["choices"]?.arrayValue?.first)
        #expect(choice["finish_reason"] == "tool_calls")
        #expect(choice["message"]?["content"] == .null)
        let id = try #require(choice["message"]?["tool_calls"]?.arrayValue?.first?["id"]?.stringValue)
        #expect(choice["message"]?["tool_calls"]?.arrayValue?.first?["function"]?["arguments"] == #"{"x":1}"#)
        #expect(converted.usage == TokenUsage(promptTokens: 5, completionTokens: 9, reasoningTokens: 7))
        #expect(out["usage"]?["completion_tokens_details"]?["reasoning_tokens"] == .number(7))

        let next =
            #"{"model":"gemini-2.5-pro","messages":[{"role":"user","content":"go"},{"role":"assistant","tool_calls":[{"id":"\#(id)","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}}]},{"role":"tool","tool_call_id":"\#(id)","content":"ok"}]}"#
        let request = try adapter.chatRequest(
            try ChatRequestEnvelope.parse(Data(next.utf8)), body: ByteBuffer(string: next),
            target: target(.gemini, "gemini-2.5-pro"), client: testClient)
        let contents = try #require(body(request)["contents"]?.arrayValue)
        #expect(contents[1]["parts"]?.arrayValue?.first?["thoughtSignature"] == "c2lnbmF0dXJl+/=")
        #expect(
            contents[2]["parts"]?.arrayValue?.first?["functionResponse"] == [
                "name": "f", "response": ["content": "ok"],
            ])
    }

    @Test(
        "finishReason maps to OpenAI's",
        arguments: [
            ("STOP", false, "stop"), ("STOP", true, "tool_calls"), ("MAX_TOKENS", false, "length"),
            ("SAFETY", false, "content_filter"),
            ("RECITATION", false, "content_filter"), ("BLOCKLIST", false, "content_filter"),
            ("PROHIBITED_CONTENT", false, "content_filter"),
            ("SPII", false, "content_filter"), ("OTHER", false, "stop"), ("MALFORMED_FUNCTION_CALL", false, "stop"),
        ])
    func finishReasons(reason: String, toolCalls: Bool, expected: String) {
        #expect(GeminiAdapter.finishReason(reason, hasToolCalls: toolCalls) == expected)
    }

    @Test("A blocked prompt is a 400 with the block reason")
    func blocked() {
        let chat = ChatRequestEnvelope(model: "gemini-x", messages: [["role": "user"]])
        #expect {
            try adapter.chatResponse(ByteBuffer(string: #"{"promptFeedback":{"blockReason":"SAFETY"}}"#), chat: chat)
        } throws: { error in
            (error as? GatewayError).map { $0.status == 400 && $0.message.contains("SAFETY") } ?? false
        }
    }

    @Test(
        "Gemini error statuses map to HTTP and OpenAI types",
        arguments: [
            ("INVALID_ARGUMENT", 400, "invalid_request_error"), ("UNAUTHENTICATED", 401, "authentication_error"),
            ("PERMISSION_DENIED", 403, "permission_error"), ("NOT_FOUND", 404, "invalid_request_error"),
            ("RESOURCE_EXHAUSTED", 429, "rate_limit_error"), ("INTERNAL", 500, "server_error"),
            ("UNAVAILABLE", 503, "service_unavailable"), ("DEADLINE_EXCEEDED", 504, "server_error"),
        ])
    func errors(status: String, http: Int, type: String) {
        let e = adapter.upstreamError(
            status: 418, body: ByteBuffer(string: #"{"error":{"code":418,"message":"m","status":"\#(status)"}}"#))
        #expect(e.status == http)
        #expect(e.type == type)
        #expect(e.message == "m")
    }

    static let stream =
        "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Bonjour\"}]},\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":4,\"candidatesTokenCount\":1}}\r\n\r\n"
        + "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\", ça va ? 👋\"}]},\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":4,\"candidatesTokenCount\":5}}\r\n\r\n"
        + "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"name\":\"a\",\"args\":{}}},{\"functionCall\":{\"name\":\"b\",\"args\":{\"k\":[1,2]}}}]},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":4,\"candidatesTokenCount\":9,\"totalTokenCount\":13}}\r\n\r\n"

    @Test("The stream converts identically at every byte split: text, two tool calls, finish, usage")
    func streamEverySplit() throws {
        let chat = ChatRequestEnvelope(
            model: "gemini-x", messages: [["role": "user"]], stream: true, includeUsage: true)
        let out = try StreamHarness.everySplit(adapter, chat: chat, stream: Self.stream)
        #expect(StreamHarness.text(out) == "Bonjour, ça va ? 👋")
        #expect(StreamHarness.toolCalls(out).map { "\($0.0) \($0.1) \($0.2)" } == ["0 a {}", #"1 b {"k":[1,2]}"#])
        #expect(StreamHarness.finishReasons(out) == ["tool_calls"])
        #expect(StreamHarness.usage(out) == json(#"{"prompt_tokens":4,"completion_tokens":9,"total_tokens":13}"#))
        #expect(out.last == "[DONE]")
        let first = StreamHarness.events(out).first?["choices"]?.arrayValue?.first?["delta"]
        #expect(first?["role"] == "assistant")
    }

    @Test("A stream that ends without a finishReason is an error, not a clean end")
    func streamCut() {
        let chat = ChatRequestEnvelope(model: "gemini-x", messages: [["role": "user"]], stream: true)
        let cut = String(
            Self.stream.prefix(while: { $0 != "💥" }).components(separatedBy: "\r\n\r\n").prefix(2).joined(
                separator: "\r\n\r\n"))
        #expect(throws: GatewayError.self) {
            try StreamHarness.run(adapter, chat: chat, chunks: [Array(cut.utf8)]).get()
        }
    }

    @Test("Remote image URLs are a clear 400")
    func remoteImage() {
        let text =
            #"{"model":"g","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}"#
        #expect {
            try adapter.chatRequest(
                try ChatRequestEnvelope.parse(Data(text.utf8)), body: ByteBuffer(string: text),
                target: target(.gemini, "g"), client: testClient)
        } throws: { ($0 as? GatewayError)?.status == 400 }
    }

    @Test("Embeddings use batchEmbedContents and come back as OpenAI floats or base64")
    func embeddings() throws {
        let request = ByteBuffer(string: #"{"model":"text-embedding-004","input":["a","b"],"dimensions":2}"#)
        let up = try adapter.embeddingsRequest(
            body: request, target: target(.gemini, "text-embedding-004"), client: testClient)
        #expect(up.url == "http://up:1/v1beta/models/text-embedding-004:batchEmbedContents")
        #expect(
            body(up)
                == json(
                    #"{"requests":[{"model":"models/text-embedding-004","content":{"parts":[{"text":"a"}]},"outputDimensionality":2},{"model":"models/text-embedding-004","content":{"parts":[{"text":"b"}]},"outputDimensionality":2}]}"#
                ))
        let answer = ByteBuffer(string: #"{"embeddings":[{"values":[0.5,-1]},{"values":[0.25,2]}]}"#)
        let floats = json(String(buffer: try adapter.embeddingsResponse(answer, request: request).body))
        #expect(floats["data"]?.arrayValue?[1]["embedding"] == [.number(0.25), .number(2)])
        let b64Request = ByteBuffer(string: #"{"model":"text-embedding-004","input":"a","encoding_format":"base64"}"#)
        let b64 = json(String(buffer: try adapter.embeddingsResponse(answer, request: b64Request).body))
        let encoded = try #require(b64["data"]?.arrayValue?.first?["embedding"]?.stringValue)
        let data = try #require(Data(base64Encoded: encoded))
        let values = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        #expect(values == [0.5, -1])
    }

    /// Answers whose members have every type the reader must take or leave to `JSONDecoder`.
    static let answerVariants: [String] = {
        let base =
            #"{"candidates":[{"content":{"role":"model","parts":[{"text":"hi","thought":false},{"functionCall":{"name":"f","args":{"b":1,"a":[true]}},"thoughtSignature":"s"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1,"thoughtsTokenCount":2,"cachedContentTokenCount":0},"promptFeedback":{"blockReason":"SAFETY"},"error":{"code":429,"message":"m","status":"RESOURCE_EXHAUSTED"}}"#
        let replacements: [(String, [String])] = [
            (#""promptTokenCount":3"#, ["3.5", "1e300", #""3""#, "9007199254740993", "-2", "null", "true", "[]"]),
            (#""parts":["#, [#""parts":null,"x":["#, #""parts":{},"x":["#, #""parts":[1,"#]),
            (#""name":"f""#, [#""nome":"f""#, #""name":null"#, #""name":7"#]),
            (#""args":{"b":1,"a":[true]}"#, [#""args":null"#, #""args":"text""#, #""args":[1,{}]"#]),
            (#""thought":false"#, [#""thought":"yes""#, #""thought":null"#, #""thought":0"#]),
            (#""candidates":["#, [#""candidates":null,"x":["#, #""candidates":{},"x":["#, #""candidates":[null,"#]),
            (#""code":429"#, [#""code":429.0"#, #""code":429.5"#, #""code":"429""#]),
            (#""blockReason":"SAFETY""#, [#""blockReason":1"#, #""blockReason":null"#]),
            (#""text":"hi""#, [#""text":null"#, #""text":["hi"]"#, #""text":"\ud800""#]),
            (#""finishReason":"STOP""#, [#""finishReason":1"#]),
        ]
        var variants = [base, "[]", "{}", "null", #"{"candidates":[]}"#]
        for (original, alternatives) in replacements {
            for alternative in alternatives {
                variants.append(base.replacingOccurrences(of: original, with: alternative))
            }
        }
        return variants
    }()

    @Test("Answers read from the tree by hand equal JSONDecoder's, or are refused where it refuses them")
    func answersAsDecoded() {
        var generator = SplitMix64(seed: 7)
        let seeds = Self.answerVariants.map { Array($0.utf8) }
        var decoded = 0
        for round in 0..<(seeds.count + 20_000) {
            let bytes =
                round < seeds.count
                ? seeds[round] : DecoderFuzzTests.mutate(seeds[round % seeds.count], &generator)
            // The parser refuses a repeated name, which JSONDecoder would read (its first value).
            if case .failure(let failure) = Result(catching: { () throws(JSONParser.Failure) in
                try JSONParser.parse(bytes)
            }), failure.repeatedKey != nil {
                continue
            }
            let reference = try? JSONDecoder().decode(GeminiAdapter.Answer.self, from: Data(bytes))
            let ours = try? AdapterSupport.decode(
                GeminiAdapter.Answer.self, from: ByteBuffer(bytes: bytes), provider: "Gemini")
            #expect(ours == reference, "\(String(decoding: bytes, as: UTF8.self))")
            if reference != nil { decoded += 1 }
        }
        #expect(decoded > 1_000)
    }
}
