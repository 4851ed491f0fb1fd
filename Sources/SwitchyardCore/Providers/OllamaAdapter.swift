import Foundation
import NIOCore

/// Ollama's native API (`/api/chat`, NDJSON streaming, `/api/embed`, `/api/tags`).
///
/// Not honoured, documented: `tool_choice` `required` and a named function (Ollama has no
/// tool choice; `none` is honoured by sending no tools), `presence/frequency_penalty` are passed
/// as options, `user` and `logprobs` are dropped (harmless), `n` > 1 is a 400.
public struct OllamaAdapter: ProviderAdapter {
    /// Creates the adapter.
    public init() {}

    /// `.ollama`.
    public var kind: ProviderKind { .ollama }

    /// Converts to `POST /api/chat`.
    public func chatRequest(
        _ chat: ChatRequestEnvelope, body: ByteBuffer, target: ModelRouter.Target, client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest {
        let request = try ChatCompletionRequest.decode(chat, body: body)
        try AdapterSupport.requireSingleChoice(request, provider: "Ollama")
        return UpstreamRequest(
            method: "POST",
            url: target.endpoint.baseURL.url("/api/chat"),
            headers: headers(client),
            body: AdapterSupport.body(try nativeChat(request, model: target.upstreamModel, stream: chat.stream)),
            timeouts: target.endpoint.timeouts
        )
    }

    /// The native request body.
    func nativeChat(_ r: ChatCompletionRequest, model: String, stream: Bool) throws(GatewayError) -> JSONValue {
        let toolNames = AdapterSupport.toolNames(in: r.messages)
        var messages: [JSONValue] = []
        for (index, m) in r.messages.enumerated() {
            var out: JSONObject = [:]
            switch m.role {
            case .system, .developer:
                out["role"] = "system"
                out["content"] = .string(m.text)
            case .user:
                out["role"] = "user"
                var text = ""
                var images: [JSONValue] = []
                for part in m.content?.parts ?? [] {
                    switch part.type {
                    case "text": text += part.text ?? ""
                    case "image_url":
                        images.append(
                            .string(try AdapterSupport.inlineImage(part, provider: "Ollama", index: index).base64))
                    default:
                        throw .invalidRequest(
                            "Ollama cannot take `\(part.type)` content parts.", param: "messages[\(index)].content")
                    }
                }
                out["content"] = .string(text)
                if !images.isEmpty { out["images"] = .array(images) }
            case .assistant:
                out["role"] = "assistant"
                out["content"] = .string(m.text)
                if let calls = m.toolCalls, !calls.isEmpty {
                    var converted: [JSONValue] = []
                    for call in calls {
                        let arguments = try AdapterSupport.argumentsObject(call.function.arguments, index: index)
                        converted.append(["function": ["name": .string(call.function.name), "arguments": arguments]])
                    }
                    out["tool_calls"] = .array(converted)
                }
            case .tool, .function:
                out["role"] = "tool"
                out["content"] = .string(m.text)
                out.set("tool_name", (m.toolCallID.flatMap { toolNames[$0] } ?? m.name).map(JSONValue.string))
            }
            messages.append(.object(out))
        }
        var body: JSONObject = [
            "model": .string(model), "messages": .array(messages), "stream": .bool(stream),
        ]
        if let tools = r.tools, !tools.isEmpty, r.toolChoice != .mode("none") {
            body["tools"] = .array(
                tools.map { tool in
                    var function: JSONObject = ["name": .string(tool.function.name)]
                    function.set("description", tool.function.description.map(JSONValue.string))
                    function["parameters"] = tool.function.parameters ?? ["type": "object", "properties": [:]]
                    return ["type": "function", "function": .object(function)]
                })
        }
        switch r.responseFormat?.type {
        case "json_object": body["format"] = "json"
        case "json_schema": body["format"] = r.responseFormat?.jsonSchema?.schema ?? "json"
        default: break
        }
        var options: JSONObject = [:]
        options.set("temperature", AdapterSupport.number(r.temperature))
        options.set("top_p", AdapterSupport.number(r.topP))
        options.set("num_predict", AdapterSupport.number(r.outputLimit))
        options.set("seed", AdapterSupport.number(r.seed))
        options.set("presence_penalty", AdapterSupport.number(r.presencePenalty))
        options.set("frequency_penalty", AdapterSupport.number(r.frequencyPenalty))
        if let stop = r.stop?.sequences, !stop.isEmpty { options["stop"] = .array(stop.map(JSONValue.string)) }
        if !options.isEmpty { body["options"] = .object(options) }
        return .object(body)
    }

    /// Native response types.
    struct Message: Decodable {
        struct ToolCall: Decodable {
            struct Function: Decodable {
                var name: String
                var arguments: JSONValue?
            }
            var function: Function
        }
        var content: String?
        var toolCalls: [ToolCall]?
        enum CodingKeys: String, CodingKey {
            case content
            case toolCalls = "tool_calls"
        }
    }

    struct ChatLine: Decodable {
        var model: String?
        var message: Message?
        var done: Bool?
        var doneReason: String?
        var promptEvalCount: Int?
        var evalCount: Int?
        var error: String?
        enum CodingKeys: String, CodingKey {
            case model, message, done, error
            case doneReason = "done_reason"
            case promptEvalCount = "prompt_eval_count"
            case evalCount = "eval_count"
        }

        var usage: TokenUsage { TokenUsage(promptTokens: promptEvalCount ?? 0, completionTokens: evalCount ?? 0) }
    }

    static func finishReason(_ doneReason: String?, hasToolCalls: Bool) -> String {
        if hasToolCalls { return "tool_calls" }
        return doneReason == "length" ? "length" : "stop"
    }

    /// Converts a non-streamed answer.
    public func chatResponse(_ body: ByteBuffer, chat: ChatRequestEnvelope) throws(GatewayError) -> AdaptedResponse {
        let line = try AdapterSupport.decode(ChatLine.self, from: body, provider: "Ollama")
        if let error = line.error { throw GatewayError(status: 502, type: "server_error", message: "Ollama: \(error)") }
        let calls = (line.message?.toolCalls ?? []).map {
            OutputToolCall(
                id: AdapterSupport.newCallID(), name: $0.function.name,
                arguments: AdapterSupport.jsonText($0.function.arguments))
        }
        let content = line.message?.content ?? ""
        let result = ChatCompletionResult(
            id: ResponseIdentity.newID(), model: chat.model, created: ResponseIdentity.now(),
            choices: [
                .init(
                    content: calls.isEmpty || !content.isEmpty ? content : nil, toolCalls: calls,
                    finishReason: Self.finishReason(line.doneReason, hasToolCalls: !calls.isEmpty))
            ],
            usage: line.usage)
        return AdaptedResponse(body: result.body(), usage: line.usage)
    }

    /// Converts the NDJSON stream.
    public func makeChatStreamTranscoder(chat: ChatRequestEnvelope) -> any ChatStreamTranscoder {
        Transcoder(emitter: ChunkEmitter(model: chat.model, includeUsage: chat.includeUsage ?? false))
    }

    struct Transcoder: ChatStreamTranscoder {
        var emitter: ChunkEmitter
        var usage: TokenUsage? { emitter.usage }
        var streamedText: String { emitter.text }
        var lines = LineSplitter()
        var done = false
        var sawToolCalls = false

        mutating func transcode(_ chunk: ByteBuffer) throws(GatewayError) -> ByteBuffer? {
            var out = ByteBuffer()
            for line in lines.feed(chunk) { try handle(line, into: &out) }
            return out
        }

        mutating func finish() throws(GatewayError) -> ByteBuffer? {
            var out = ByteBuffer()
            if let line = lines.finish() { try handle(line, into: &out) }
            guard done else { throw .badGateway("The Ollama stream ended before its final `done` line.") }
            return out
        }

        mutating func handle(_ text: String, into out: inout ByteBuffer) throws(GatewayError) {
            guard !text.trimmingCharacters(in: .whitespaces).isEmpty, !done else { return }
            let line = try AdapterSupport.decode(ChatLine.self, from: ByteBuffer(string: text), provider: "Ollama")
            if let error = line.error {
                throw GatewayError(status: 502, type: "server_error", message: "Ollama: \(error)")
            }
            if let content = line.message?.content, !content.isEmpty { emitter.text(content, into: &out) }
            for call in line.message?.toolCalls ?? [] {
                sawToolCalls = true
                let id = AdapterSupport.newCallID()
                emitter.startToolCall(
                    key: id, id: id, name: call.function.name,
                    arguments: AdapterSupport.jsonText(call.function.arguments),
                    into: &out)
            }
            if line.done == true {
                done = true
                emitter.text("", into: &out)
                emitter.finish(OllamaAdapter.finishReason(line.doneReason, hasToolCalls: sawToolCalls), into: &out)
                emitter.end(usage: line.usage, into: &out)
            }
        }
    }

    /// Converts to `POST /api/embed`.
    public func embeddingsRequest(
        body: ByteBuffer, target: ModelRouter.Target, client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest {
        let request = try EmbeddingsRequest.decode(body)
        var native: JSONObject = [
            "model": .string(target.upstreamModel), "input": .array(request.input.map(JSONValue.string)),
        ]
        native.set("dimensions", AdapterSupport.number(request.dimensions))
        return UpstreamRequest(
            method: "POST", url: target.endpoint.baseURL.url("/api/embed"), headers: headers(client),
            body: AdapterSupport.body(.object(native)), timeouts: target.endpoint.timeouts)
    }

    /// Converts `{"embeddings":[[…]],"prompt_eval_count"}`.
    public func embeddingsResponse(_ body: ByteBuffer, request: ByteBuffer) throws(GatewayError) -> AdaptedResponse {
        struct Answer: Decodable {
            var embeddings: [[Double]]
            var promptEvalCount: Int?
            enum CodingKeys: String, CodingKey {
                case embeddings
                case promptEvalCount = "prompt_eval_count"
            }
        }
        let answer = try AdapterSupport.decode(Answer.self, from: body, provider: "Ollama")
        let converted = try EmbeddingsRequest.decode(request).responseBody(
            vectors: answer.embeddings, promptTokens: answer.promptEvalCount ?? 0)
        return AdaptedResponse(body: converted, usage: .embedding(promptTokens: answer.promptEvalCount))
    }

    /// `GET /api/tags`.
    public func modelsRequest(endpoint: ProviderEndpoint, client: ClientContext) -> UpstreamRequest {
        UpstreamRequest(
            method: "GET", url: endpoint.baseURL.url("/api/tags"), headers: headers(client), body: nil,
            timeouts: endpoint.timeouts.capped(at: 10))
    }

    /// Parses `{"models":[{"name"}]}`.
    public func modelsResponse(_ body: ByteBuffer, endpoint: ProviderEndpoint) throws(GatewayError) -> [ModelEntry] {
        struct Tags: Decodable {
            struct Model: Decodable { var name: String }
            var models: [Model]
        }
        return try AdapterSupport.decode(Tags.self, from: body, provider: "Ollama").models.map {
            ModelEntry(id: $0.name, created: 0, ownedBy: "ollama")
        }
    }

    /// `{"error":"…"}` with its status.
    public func upstreamError(status: Int, body: ByteBuffer) -> GatewayError {
        struct Failure: Decodable { var error: String }
        return AdapterSupport.upstreamError(Failure.self, status: status, body: body, provider: "Ollama") {
            GatewayError(
                status: status, type: GatewayError.openAIType(forStatus: status), message: $0.error,
                code: status == 404 ? "model_not_found" : nil)
        }
    }

    func headers(_ client: ClientContext) -> [(name: String, value: String)] {
        AdapterSupport.headers(client, credential: client.authorization.map { ("authorization", $0) })
    }
}
