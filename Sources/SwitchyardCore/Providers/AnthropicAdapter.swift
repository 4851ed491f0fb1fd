import Foundation
import NIOCore

/// Anthropic's Messages API (`/v1/messages`, its named SSE events, `x-api-key`,
/// `anthropic-version`).
///
/// Documented choices: `max_tokens` is required by Anthropic, so a request without one gets
/// `defaultMaxTokens`; `temperature` above 1 is clamped to 1 (Anthropic's range is 0…1);
/// `response_format` is emulated with a system instruction (Anthropic has no JSON mode); `seed`,
/// `presence_penalty` and `frequency_penalty` are dropped (Anthropic has none); `n` > 1 is a 400;
/// there are no embeddings (400).
public struct AnthropicAdapter: ProviderAdapter {
    /// The output limit used when the client gives none.
    public static let defaultMaxTokens = 4096
    static let version = "2023-06-01"

    /// Creates the adapter.
    public init() {}

    /// `.anthropic`.
    public var kind: ProviderKind { .anthropic }

    /// Converts to `POST /v1/messages`.
    public func chatRequest(
        _ chat: ChatRequestEnvelope, body: ByteBuffer, target: ModelRouter.Target, client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest {
        let request = try ChatCompletionRequest.decode(chat, body: body)
        try AdapterSupport.requireSingleChoice(request, provider: "Anthropic")
        return UpstreamRequest(
            method: "POST", url: target.endpoint.baseURL.url("/v1/messages"), headers: headers(target.endpoint, client),
            body: AdapterSupport.body(try nativeChat(request, model: target.upstreamModel, stream: chat.stream)),
            timeouts: target.endpoint.timeouts)
    }

    /// The native request body.
    func nativeChat(_ r: ChatCompletionRequest, model: String, stream: Bool) throws(GatewayError) -> JSONValue {
        var system: [String] = []
        var turns = MergedTurns()
        func append(_ role: String, _ blocks: [JSONValue]) { turns.append(role, blocks) }
        for (index, m) in r.messages.enumerated() {
            switch m.role {
            case .system, .developer:
                if !m.text.isEmpty { system.append(m.text) }
            case .user:
                var blocks: [JSONValue] = []
                for part in m.content?.parts ?? [] {
                    switch part.type {
                    case "text":
                        if let t = part.text, !t.isEmpty { blocks.append(["type": "text", "text": .string(t)]) }
                    case "image_url":
                        let url = part.imageURL?.url ?? ""
                        if let data = DataURL(url) {
                            blocks.append([
                                "type": "image",
                                "source": [
                                    "type": "base64", "media_type": .string(data.mimeType),
                                    "data": .string(data.base64),
                                ],
                            ])
                        } else if url.hasPrefix("https://") || url.hasPrefix("http://") {
                            blocks.append(["type": "image", "source": ["type": "url", "url": .string(url)]])
                        } else {
                            throw .invalidRequest(
                                "An image URL must be a data URL or http(s).", param: "messages[\(index)].content")
                        }
                    default:
                        throw .invalidRequest(
                            "Anthropic cannot take `\(part.type)` content parts.", param: "messages[\(index)].content")
                    }
                }
                append("user", blocks)
            case .assistant:
                var blocks: [JSONValue] = []
                if !m.text.isEmpty { blocks.append(["type": "text", "text": .string(m.text)]) }
                for call in m.toolCalls ?? [] {
                    blocks.append([
                        "type": "tool_use", "id": .string(call.id), "name": .string(call.function.name),
                        "input": try AdapterSupport.argumentsObject(call.function.arguments, index: index),
                    ])
                }
                append("assistant", blocks)
            case .tool, .function:
                guard let id = m.toolCallID else {
                    throw .invalidRequest(
                        "A tool message needs `tool_call_id`.", param: "messages[\(index)].tool_call_id")
                }
                append("user", [["type": "tool_result", "tool_use_id": .string(id), "content": .string(m.text)]])
            }
        }
        switch r.responseFormat?.type {
        case "json_object":
            system.append("Respond with a single JSON object and nothing else.")
        case "json_schema":
            let schema = AdapterSupport.jsonText(r.responseFormat?.jsonSchema?.schema)
            system.append(
                "Respond with a single JSON object that conforms to this JSON schema, and nothing else: \(schema)")
        default: break
        }
        var body: JSONObject = [
            "model": .string(model),
            "max_tokens": .number(Double(r.outputLimit ?? Self.defaultMaxTokens)),
            "messages": turns.json(piecesKey: "content"),
        ]
        if stream { body["stream"] = .bool(true) }
        if !system.isEmpty { body["system"] = .string(system.joined(separator: "\n\n")) }
        body.set("temperature", r.temperature.map { .number(min(max($0, 0), 1)) })
        body.set("top_p", AdapterSupport.number(r.topP))
        if let stop = r.stop?.sequences, !stop.isEmpty { body["stop_sequences"] = .array(stop.map(JSONValue.string)) }
        if let user = r.user { body["metadata"] = ["user_id": .string(user)] }
        if let tools = r.tools, !tools.isEmpty {
            body["tools"] = .array(
                tools.map { tool in
                    var t: JSONObject = [
                        "name": .string(tool.function.name),
                        "input_schema": tool.function.parameters ?? ["type": "object", "properties": [:]],
                    ]
                    t.set("description", tool.function.description.map(JSONValue.string))
                    return .object(t)
                })
            switch r.toolChoice {
            case .mode("none"): body["tool_choice"] = ["type": "none"]
            case .mode("required"): body["tool_choice"] = ["type": "any"]
            case .mode("auto"): body["tool_choice"] = ["type": "auto"]
            case .function(let name): body["tool_choice"] = ["type": "tool", "name": .string(name)]
            default: break
            }
        }
        return .object(body)
    }

    // MARK: Answers

    struct Usage: Decodable {
        var inputTokens: Int?
        var outputTokens: Int?
        var cacheCreationInputTokens: Int?
        var cacheReadInputTokens: Int?
        enum CodingKeys: String, CodingKey {
            case inputTokens = "input_tokens"
            case outputTokens = "output_tokens"
            case cacheCreationInputTokens = "cache_creation_input_tokens"
            case cacheReadInputTokens = "cache_read_input_tokens"
        }

        /// The usage with `output` generated tokens: OpenAI's prompt tokens include cached ones,
        /// Anthropic reports them apart.
        func tokens(output: Int) -> TokenUsage {
            let (written, read) = (cacheCreationInputTokens ?? 0, cacheReadInputTokens ?? 0)
            return TokenUsage(
                promptTokens: (inputTokens ?? 0) + written + read, completionTokens: output, cachedTokens: read,
                cacheWriteTokens: written)
        }
    }

    struct Block: Decodable {
        var type: String
        var text: String?
        var id: String?
        var name: String?
        var input: JSONValue?
    }

    struct Message: Decodable {
        var content: [Block]
        var stopReason: String?
        var usage: Usage?
        enum CodingKeys: String, CodingKey {
            case content, usage
            case stopReason = "stop_reason"
        }
    }

    static func finishReason(_ stopReason: String?) -> String {
        switch stopReason {
        case "max_tokens": return "length"
        case "tool_use": return "tool_calls"
        case "refusal": return "content_filter"
        default: return "stop"
        }
    }

    /// Converts a non-streamed answer.
    public func chatResponse(_ body: ByteBuffer, chat: ChatRequestEnvelope) throws(GatewayError) -> AdaptedResponse {
        let message = try AdapterSupport.decode(Message.self, from: body, provider: "Anthropic")
        let text = message.content.filter { $0.type == "text" }.compactMap(\.text).joined()
        let calls = message.content.filter { $0.type == "tool_use" }.map {
            OutputToolCall(
                id: $0.id ?? AdapterSupport.newCallID(), name: $0.name ?? "",
                arguments: AdapterSupport.jsonText($0.input))
        }
        let usage = (message.usage ?? Usage()).tokens(output: message.usage?.outputTokens ?? 0)
        let result = ChatCompletionResult(
            id: ResponseIdentity.newID(), model: chat.model, created: ResponseIdentity.now(),
            choices: [
                .init(
                    content: calls.isEmpty || !text.isEmpty ? text : nil, toolCalls: calls,
                    finishReason: Self.finishReason(message.stopReason))
            ], usage: usage)
        return AdaptedResponse(body: result.body(), usage: usage)
    }

    /// Converts the named-event SSE stream.
    public func makeChatStreamTranscoder(chat: ChatRequestEnvelope) -> any ChatStreamTranscoder {
        Transcoder(emitter: ChunkEmitter(model: chat.model, includeUsage: chat.includeUsage ?? false))
    }

    struct Transcoder: SSEEventTranscoder {
        struct Event: Decodable {
            struct Delta: Decodable {
                var type: String?
                var text: String?
                var partialJSON: String?
                var stopReason: String?
                enum CodingKeys: String, CodingKey {
                    case type, text
                    case partialJSON = "partial_json"
                    case stopReason = "stop_reason"
                }
            }
            struct Start: Decodable { var usage: Usage? }
            struct Failure: Decodable {
                var type: String?
                var message: String?
            }
            var type: String
            var index: Int?
            var message: Start?
            var contentBlock: Block?
            var delta: Delta?
            var usage: Usage?
            var error: Failure?
            enum CodingKeys: String, CodingKey {
                case type, index, message, delta, usage, error
                case contentBlock = "content_block"
            }
        }

        var emitter: ChunkEmitter
        var usage: TokenUsage? { emitter.usage }
        var streamedText: String { emitter.text }
        var sse = SSEDecoder()
        var input = Usage()
        var outputTokens = 0
        var stopReason: String?
        var stopped = false

        mutating func complete(into out: inout ByteBuffer) throws(GatewayError) {
            guard stopped else {
                throw .badGateway("The Anthropic stream ended before `message_stop`; the answer is incomplete.")
            }
        }

        mutating func handle(_ sse: SSEDecoder.Event, into out: inout ByteBuffer) throws(GatewayError) {
            guard !sse.data.isEmpty, !stopped else { return }
            let event = try AdapterSupport.decode(Event.self, from: ByteBuffer(string: sse.data), provider: "Anthropic")
            switch event.type {
            case "message_start":
                input = event.message?.usage ?? Usage()
                outputTokens = event.message?.usage?.outputTokens ?? 0
                emitter.text("", into: &out)
            case "content_block_start":
                if let block = event.contentBlock, block.type == "tool_use" {
                    let id = block.id ?? AdapterSupport.newCallID()
                    emitter.startToolCall(
                        key: "block-\(event.index ?? 0)", id: id, name: block.name ?? "", arguments: "", into: &out)
                } else if let text = event.contentBlock?.text, !text.isEmpty {
                    emitter.text(text, into: &out)
                }
            case "content_block_delta":
                switch event.delta?.type {
                case "text_delta": emitter.text(event.delta?.text ?? "", into: &out)
                case "input_json_delta":
                    emitter.toolArguments(
                        key: "block-\(event.index ?? 0)", fragment: event.delta?.partialJSON ?? "", into: &out)
                default: break
                }
            case "message_delta":
                if let reason = event.delta?.stopReason { stopReason = reason }
                if let tokens = event.usage?.outputTokens { outputTokens = tokens }
                if let usage = event.usage, usage.inputTokens != nil { input = usage }
            case "message_stop":
                stopped = true
                emitter.finish(AnthropicAdapter.finishReason(stopReason), into: &out)
                emitter.end(usage: input.tokens(output: outputTokens), into: &out)
            case "error":
                throw AnthropicAdapter.error(
                    status: 500, type: event.error?.type, message: event.error?.message ?? "Anthropic stream error")
            default:
                break
            }
        }
    }

    // MARK: Embeddings, models, errors

    /// Anthropic has no embeddings API.
    public func embeddingsRequest(
        body: ByteBuffer, target: ModelRouter.Target, client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest {
        throw .invalidRequest(
            "Anthropic offers no embeddings; route `\(target.requestedModel)` to another provider.", param: "model")
    }

    /// Never called: `embeddingsRequest` always throws.
    public func embeddingsResponse(_ body: ByteBuffer, request: ByteBuffer) throws(GatewayError) -> AdaptedResponse {
        throw .badGateway("Anthropic offers no embeddings.")
    }

    /// `GET /v1/models`.
    public func modelsRequest(endpoint: ProviderEndpoint, client: ClientContext) -> UpstreamRequest {
        UpstreamRequest(
            method: "GET", url: endpoint.baseURL.url("/v1/models?limit=1000"), headers: headers(endpoint, client),
            body: nil, timeouts: endpoint.timeouts.capped(at: 10))
    }

    /// Parses `{"data":[{"id"}]}`.
    public func modelsResponse(_ body: ByteBuffer, endpoint: ProviderEndpoint) throws(GatewayError) -> [ModelEntry] {
        struct Listing: Decodable {
            struct Model: Decodable { var id: String }
            var data: [Model]
        }
        return try AdapterSupport.decode(Listing.self, from: body, provider: "Anthropic").data.map {
            ModelEntry(id: $0.id, created: 0, ownedBy: "anthropic")
        }
    }

    /// `{"type":"error","error":{"type","message"}}`.
    public func upstreamError(status: Int, body: ByteBuffer) -> GatewayError {
        struct Envelope: Decodable {
            struct Failure: Decodable {
                var type: String?
                var message: String?
            }
            var error: Failure
        }
        return AdapterSupport.upstreamError(Envelope.self, status: status, body: body, provider: "Anthropic") {
            Self.error(status: status, type: $0.error.type, message: $0.error.message ?? "")
        }
    }

    static func error(status: Int, type: String?, message: String) -> GatewayError {
        let mapped: Int
        switch type {
        case "invalid_request_error": mapped = 400
        case "authentication_error": mapped = 401
        case "permission_error": mapped = 403
        case "not_found_error": mapped = 404
        case "request_too_large": mapped = 413
        case "rate_limit_error": mapped = 429
        case "api_error": mapped = 500
        case "overloaded_error": mapped = 503
        default: mapped = status == 529 ? 503 : status
        }
        return GatewayError(
            status: mapped, type: GatewayError.openAIType(forStatus: mapped), message: message, code: type)
    }

    func headers(_ endpoint: ProviderEndpoint, _ client: ClientContext) -> [(name: String, value: String)] {
        AdapterSupport.headers(
            client, credential: (endpoint.apiKey?.value ?? client.bearerToken).map { ("x-api-key", $0) },
            extra: [("anthropic-version", Self.version)])
    }
}
