import Foundation
import NIOCore

/// AWS Bedrock through its Converse API (every chat model Bedrock serves, one format) and its
/// InvokeModel API for Titan and Cohere embeddings. Requests carry the signing the server applies
/// (AWS Signature Version 4); streams arrive in AWS's binary event-stream framing.
public struct BedrockAdapter: ProviderAdapter {
    public let kind = ProviderKind.bedrock

    /// An adapter.
    public init() {}

    /// The Converse (or ConverseStream) request.
    public func chatRequest(
        _ chat: ChatRequestEnvelope, body: ByteBuffer, target: ModelRouter.Target, client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest {
        let request = try ChatCompletionRequest.decode(chat, body: body)
        try AdapterSupport.requireSingleChoice(request, provider: "Bedrock")
        return try Self.request(
            target, path: chat.stream ? "converse-stream" : "converse", body: AdapterSupport.body(converse(request)),
            client: client)
    }

    /// A signed POST to `/model/{model id}/{path}`; the model id (which may hold `:` and `/`, or be
    /// an inference profile's ARN) is one percent-encoded path segment.
    static func request(
        _ target: ModelRouter.Target, path: String, body: ByteBuffer, client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest {
        guard case .bedrock(let access)? = target.endpoint.cloud else {
            throw .badGateway("The Bedrock provider `\(target.endpoint.id)` has no region or credentials configured.")
        }
        var request = UpstreamRequest(
            method: "POST",
            url: target.endpoint.baseURL.url("/model/\(AWSSigV4.encode(target.upstreamModel))/\(path)"),
            headers: AdapterSupport.headers(client, credential: nil, extra: [("accept", "application/json")]),
            body: body, timeouts: target.endpoint.timeouts)
        request.signing = .aws(region: access.region, service: "bedrock", credentials: access.credentials)
        return request
    }

    /// The Converse body: system prompts, alternating turns of content blocks (text, images, tool
    /// uses and results), inference settings and tools.
    func converse(_ r: ChatCompletionRequest) throws(GatewayError) -> JSONValue {
        var system: [JSONValue] = []
        var turns = MergedTurns()
        for (index, m) in r.messages.enumerated() {
            switch m.role {
            case .system, .developer:
                let text = m.text
                if !text.isEmpty { system.append(["text": .string(text)]) }
            case .user:
                let blocks = try AdapterSupport.userParts(m, index: index, provider: "Bedrock") { image in
                    let format = image.mimeType.hasPrefix("image/") ? String(image.mimeType.dropFirst(6)) : "png"
                    return [
                        "image": [
                            "format": .string(format == "jpg" ? "jpeg" : format),
                            "source": ["bytes": .string(image.base64)],
                        ]
                    ]
                }
                turns.append("user", blocks)
            case .assistant:
                var blocks: [JSONValue] = []
                let text = m.text
                if !text.isEmpty { blocks.append(["text": .string(text)]) }
                for call in m.toolCalls ?? [] {
                    blocks.append([
                        "toolUse": [
                            "toolUseId": .string(call.id), "name": .string(call.function.name),
                            "input": try AdapterSupport.argumentsObject(call.function.arguments, index: index),
                        ]
                    ])
                }
                turns.append("assistant", blocks)
            case .tool, .function:
                guard let id = m.toolCallID else {
                    throw .invalidRequest(
                        "A tool message needs the `tool_call_id` it answers.", param: "messages[\(index)].tool_call_id")
                }
                turns.append(
                    "user",
                    [
                        [
                            "toolResult": [
                                "toolUseId": .string(id), "content": [["text": .string(m.text)]], "status": "success",
                            ]
                        ]
                    ])
            }
        }
        var body: JSONObject = ["messages": turns.json(piecesKey: "content")]
        if !system.isEmpty { body["system"] = .array(system) }
        var inference: JSONObject = [:]
        inference.set("maxTokens", AdapterSupport.number(r.outputLimit))
        inference.set("temperature", AdapterSupport.number(r.temperature))
        inference.set("topP", AdapterSupport.number(r.topP))
        if let stop = r.stop?.sequences, !stop.isEmpty {
            inference["stopSequences"] = .array(stop.map(JSONValue.string))
        }
        if !inference.isEmpty { body["inferenceConfig"] = .object(inference) }
        if let tools = r.tools, !tools.isEmpty, r.toolChoice != .mode("none") {
            var config: JSONObject = [
                "tools": .array(
                    tools.map { tool in
                        var spec: JSONObject = [
                            "name": .string(tool.function.name),
                            "inputSchema": ["json": tool.function.parameters ?? ["type": "object", "properties": [:]]],
                        ]
                        spec.set("description", tool.function.description.map(JSONValue.string))
                        return ["toolSpec": .object(spec)]
                    })
            ]
            switch r.toolChoice {
            case .mode("required"): config["toolChoice"] = ["any": [:]]
            case .mode("auto"): config["toolChoice"] = ["auto": [:]]
            case .function(let name): config["toolChoice"] = ["tool": ["name": .string(name)]]
            default: break
            }
            body["toolConfig"] = .object(config)
        }
        return .object(body)
    }

    // MARK: Answers

    struct Block: Decodable {
        struct ToolUse: Decodable {
            var toolUseId: String
            var name: String
            var input: JSONValue?
        }
        var text: String?
        var toolUse: ToolUse?
    }

    struct Usage: Decodable {
        var inputTokens: Int?
        var outputTokens: Int?
        var cacheReadInputTokens: Int?
        var cacheWriteInputTokens: Int?

        /// Bedrock counts cached input apart from `inputTokens`; OpenAI's prompt count includes it.
        var tokens: TokenUsage {
            let cached = cacheReadInputTokens ?? 0
            let written = cacheWriteInputTokens ?? 0
            return TokenUsage(
                promptTokens: (inputTokens ?? 0) + cached + written, completionTokens: outputTokens ?? 0,
                cachedTokens: cached, cacheWriteTokens: written)
        }
    }

    struct Answer: Decodable {
        struct Output: Decodable {
            struct Message: Decodable { var content: [Block]? }
            var message: Message?
        }
        var output: Output?
        var stopReason: String?
        var usage: Usage?
    }

    /// OpenAI's finish reason for a Converse stop reason.
    static func finishReason(_ reason: String?) -> String {
        switch reason {
        case "max_tokens", "model_context_window_exceeded": "length"
        case "tool_use": "tool_calls"
        case "content_filtered", "guardrail_intervened": "content_filter"
        default: "stop"
        }
    }

    /// Converts a Converse answer.
    public func chatResponse(_ body: ByteBuffer, chat: ChatRequestEnvelope) throws(GatewayError) -> AdaptedResponse {
        let answer = try AdapterSupport.decode(Answer.self, from: body, provider: "Bedrock")
        let blocks = answer.output?.message?.content ?? []
        let text = blocks.compactMap(\.text).joined()
        let calls = blocks.compactMap(\.toolUse).map {
            OutputToolCall(id: $0.toolUseId, name: $0.name, arguments: AdapterSupport.jsonText($0.input))
        }
        let usage = answer.usage?.tokens ?? TokenUsage(promptTokens: 0, completionTokens: 0)
        let result = ChatCompletionResult(
            id: ResponseIdentity.newID(), model: chat.model, created: ResponseIdentity.now(),
            choices: [
                ChatCompletionResult.Choice(
                    content: calls.isEmpty || !text.isEmpty ? text : nil, toolCalls: calls,
                    finishReason: Self.finishReason(answer.stopReason))
            ], usage: usage, reasoningTokens: nil)
        return AdaptedResponse(body: result.body(), usage: usage)
    }

    /// Converts ConverseStream's event stream.
    public func makeChatStreamTranscoder(chat: ChatRequestEnvelope) -> any ChatStreamTranscoder {
        BedrockStreamTranscoder(emitter: ChunkEmitter(model: chat.model, includeUsage: chat.includeUsage ?? false))
    }

    // MARK: Embeddings, models, errors

    /// Titan (`amazon.titan-embed-*`, one input per request) or Cohere (`cohere.embed-*`)
    /// embeddings through InvokeModel.
    public func embeddingsRequest(
        body: ByteBuffer, target: ModelRouter.Target, client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest {
        let request = try EmbeddingsRequest.decode(body)
        let native: JSONValue
        if target.upstreamModel.contains("cohere.embed") {
            native = ["texts": .array(request.input.map(JSONValue.string)), "input_type": "search_document"]
        } else {
            guard request.input.count == 1 else {
                throw .invalidRequest(
                    "Titan embeddings take one input per request; send the inputs one by one.", param: "input")
            }
            var titan: JSONObject = ["inputText": .string(request.input[0])]
            titan.set("dimensions", AdapterSupport.number(request.dimensions))
            native = .object(titan)
        }
        return try Self.request(target, path: "invoke", body: AdapterSupport.body(native), client: client)
    }

    /// Titan's `{"embedding":[…],"inputTextTokenCount":n}` or Cohere's `{"embeddings":[[…]]}`.
    public func embeddingsResponse(_ body: ByteBuffer, request: ByteBuffer) throws(GatewayError) -> AdaptedResponse {
        struct Answer: Decodable {
            var embedding: [Double]?
            var inputTextTokenCount: Int?
            var embeddings: [[Double]]?
        }
        let answer = try AdapterSupport.decode(Answer.self, from: body, provider: "Bedrock")
        guard let vectors = answer.embedding.map({ [$0] }) ?? answer.embeddings else {
            throw .badGateway("Bedrock answered an embeddings request without embeddings.")
        }
        let tokens = answer.inputTextTokenCount ?? 0
        let converted = try EmbeddingsRequest.decode(request).responseBody(vectors: vectors, promptTokens: tokens)
        return AdaptedResponse(
            body: converted, usage: tokens > 0 ? TokenUsage(promptTokens: tokens, completionTokens: 0) : nil)
    }

    /// Bedrock's runtime has no model listing; the gateway lists none for it.
    public func modelsRequest(endpoint: ProviderEndpoint, client: ClientContext) -> UpstreamRequest {
        UpstreamRequest(
            method: "GET", url: endpoint.baseURL.url("/"), headers: [], body: nil, timeouts: endpoint.timeouts)
    }

    /// No models are listed.
    public func modelsResponse(_ body: ByteBuffer, endpoint: ProviderEndpoint) throws(GatewayError) -> [ModelEntry] {
        []
    }

    /// `{"message":"…"}` with the status AWS chose: throttling becomes 429 with `Retry-After`,
    /// validation 400, and refused or expired credentials a 502 that names the provider and the
    /// cause (the client cannot fix the gateway's credentials).
    public func upstreamError(status: Int, body: ByteBuffer) -> GatewayError {
        struct Envelope: Decodable {
            var message: String?
            var Message: String?
        }
        let envelope = try? JSONDecoder().decode(Envelope.self, from: Data(buffer: body))
        let message = envelope?.message ?? envelope?.Message ?? String(buffer: body)
        return Self.error(status: status, message: message)
    }

    /// The client-facing error for a Bedrock failure.
    static func error(status: Int, message: String) -> GatewayError {
        let lowered = message.lowercased()
        if status == 403 || status == 401,
            lowered.contains("token") || lowered.contains("signature") || lowered.contains("credential")
                || lowered.contains("expired")
        {
            return .badGateway("Bedrock refused the gateway's AWS credentials: \(message)")
        }
        var error = GatewayError(
            status: status, type: GatewayError.openAIType(forStatus: status), message: "Bedrock: \(message)",
            code: status == 429 ? "rate_limit_exceeded" : nil)
        if status == 429 { error.headers["retry-after"] = "1" }
        return error
    }
}
