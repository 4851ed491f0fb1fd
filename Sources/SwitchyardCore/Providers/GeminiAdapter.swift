import Foundation
import NIOCore

/// Google Gemini's native Generative Language API (v1beta): `generateContent`,
/// `streamGenerateContent?alt=sse`, `batchEmbedContents`, the models list.
///
/// Gemini's thinking models put a `thoughtSignature` on the part holding a `functionCall`; it
/// travels inside the OpenAI tool-call id (`call_<random>~ts~<signature>`) and is restored on the
/// part when the assistant turn comes back. Not honoured, documented: `user` (dropped, harmless),
/// `n` > 1 while streaming (400).
public struct GeminiAdapter: ProviderAdapter {
    static let signatureMarker = "~ts~"

    /// Creates the adapter.
    public init() {}

    /// `.gemini`.
    public var kind: ProviderKind { .gemini }

    /// Converts to `generateContent` or `streamGenerateContent?alt=sse`.
    public func chatRequest(
        _ chat: ChatRequestEnvelope, body: ByteBuffer, target: ModelRouter.Target, client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest {
        let request = try ChatCompletionRequest.decode(chat, body: body)
        if chat.stream, let n = request.n, n > 1 {
            throw .invalidRequest("Streaming from Gemini returns one choice; `n` must be 1 with `stream`.", param: "n")
        }
        let method = chat.stream ? ":streamGenerateContent?alt=sse" : ":generateContent"
        return UpstreamRequest(
            method: "POST",
            url: target.endpoint.baseURL.url("/v1beta/models/\(Self.pathSafe(target.upstreamModel))\(method)"),
            headers: headers(target.endpoint, client),
            body: AdapterSupport.body(try nativeChat(request)),
            timeouts: target.endpoint.timeouts
        )
    }

    /// The native request body.
    func nativeChat(_ r: ChatCompletionRequest) throws(GatewayError) -> JSONValue {
        let toolNames = AdapterSupport.toolNames(in: r.messages)
        var system: [JSONValue] = []
        var contents = MergedTurns()
        func append(_ role: String, _ parts: [JSONValue]) { contents.append(role, parts) }
        for (index, m) in r.messages.enumerated() {
            switch m.role {
            case .system, .developer:
                let text = m.text
                if !text.isEmpty { system.append(["text": .string(text)]) }
            case .user:
                let parts = try AdapterSupport.userParts(m, index: index, provider: "Gemini") { image in
                    ["inlineData": ["mimeType": .string(image.mimeType), "data": .string(image.base64)]]
                }
                append("user", parts)
            case .assistant:
                var parts: [JSONValue] = []
                let text = m.text
                if !text.isEmpty { parts.append(["text": .string(text)]) }
                for call in m.toolCalls ?? [] {
                    var part: JSONObject = [
                        "functionCall": [
                            "name": .string(call.function.name),
                            "args": try AdapterSupport.argumentsObject(call.function.arguments, index: index),
                        ]
                    ]
                    part.set("thoughtSignature", Self.signature(in: call.id).map(JSONValue.string))
                    parts.append(.object(part))
                }
                append("model", parts)
            case .tool, .function:
                guard let name = m.toolCallID.flatMap({ toolNames[$0] }) ?? m.name else {
                    throw .invalidRequest(
                        "This tool message answers a call id that no earlier assistant message made.",
                        param: "messages[\(index)].tool_call_id")
                }
                let text = m.text
                var response = (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .string(text)
                if response.objectValue == nil { response = ["content": response] }
                append("user", [["functionResponse": ["name": .string(name), "response": response]]])
            }
        }
        var body: JSONObject = [
            "contents": contents.json(piecesKey: "parts")
        ]
        if !system.isEmpty { body["systemInstruction"] = ["parts": .array(system)] }
        if let tools = r.tools, !tools.isEmpty {
            body["tools"] = [
                [
                    "functionDeclarations": .array(
                        tools.map { tool in
                            var f: JSONObject = ["name": .string(tool.function.name)]
                            f.set("description", tool.function.description.map(JSONValue.string))
                            f.set("parameters", tool.function.parameters.map(GeminiSchema.clean))
                            return .object(f)
                        })
                ]
            ]
        }
        switch r.toolChoice {
        case .mode("none"): body["toolConfig"] = ["functionCallingConfig": ["mode": "NONE"]]
        case .mode("required"): body["toolConfig"] = ["functionCallingConfig": ["mode": "ANY"]]
        case .mode("auto"): body["toolConfig"] = ["functionCallingConfig": ["mode": "AUTO"]]
        case .function(let name):
            body["toolConfig"] = ["functionCallingConfig": ["mode": "ANY", "allowedFunctionNames": [.string(name)]]]
        default: break
        }
        var generation: JSONObject = [:]
        generation.set("temperature", AdapterSupport.number(r.temperature))
        generation.set("topP", AdapterSupport.number(r.topP))
        generation.set("maxOutputTokens", AdapterSupport.number(r.outputLimit))
        generation.set("candidateCount", AdapterSupport.number(r.n))
        generation.set("seed", AdapterSupport.number(r.seed))
        generation.set("presencePenalty", AdapterSupport.number(r.presencePenalty))
        generation.set("frequencyPenalty", AdapterSupport.number(r.frequencyPenalty))
        if let stop = r.stop?.sequences, !stop.isEmpty {
            generation["stopSequences"] = .array(stop.map(JSONValue.string))
        }
        switch r.responseFormat?.type {
        case "json_object":
            generation["responseMimeType"] = "application/json"
        case "json_schema":
            generation["responseMimeType"] = "application/json"
            generation.set("responseSchema", r.responseFormat?.jsonSchema?.schema.map(GeminiSchema.clean))
        default: break
        }
        if !generation.isEmpty { body["generationConfig"] = .object(generation) }
        return .object(body)
    }

    /// The signature carried in a tool-call id, if any.
    static func signature(in id: String) -> String? {
        guard let range = id.range(of: signatureMarker) else { return nil }
        let signature = String(id[range.upperBound...])
        return signature.isEmpty ? nil : signature
    }

    /// A tool-call id that carries `signature`.
    static func callID(signature: String?) -> String {
        AdapterSupport.newCallID() + (signature.map { signatureMarker + $0 } ?? "")
    }

    /// The model name as one URL path segment: every byte outside Foundation's URL path
    /// characters, and `/`, `?`, `#`, `:` (which would change the path or the method suffix),
    /// percent-encoded, without building a character set per request.
    static func pathSafe(_ model: String) -> String {
        if model.utf8.allSatisfy(isPathSafe) { return model }
        var out = ""
        for byte in model.utf8 {
            if isPathSafe(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out +=
                    "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return out
    }

    private static func isPathSafe(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: "!$&'()*+,-.=@_~".utf8.contains(byte)
        }
    }

    // MARK: Answers

    struct Part: Decodable, Equatable {
        struct FunctionCall: Decodable, Equatable {
            var name: String
            var args: JSONValue?
        }
        var text: String?
        var thought: Bool?
        var functionCall: FunctionCall?
        var thoughtSignature: String?
    }

    struct Candidate: Decodable, Equatable {
        struct Content: Decodable, Equatable { var parts: [Part]? }
        var content: Content?
        var finishReason: String?
    }

    struct Usage: Decodable, Equatable {
        var promptTokenCount: Int?
        var candidatesTokenCount: Int?
        var thoughtsTokenCount: Int?
        var cachedContentTokenCount: Int?

        var tokens: TokenUsage {
            TokenUsage(
                promptTokens: promptTokenCount ?? 0,
                completionTokens: (candidatesTokenCount ?? 0) + (thoughtsTokenCount ?? 0),
                cachedTokens: cachedContentTokenCount ?? 0, reasoningTokens: thoughtsTokenCount ?? 0)
        }
    }

    struct Answer: Decodable, Equatable {
        struct Feedback: Decodable, Equatable { var blockReason: String? }
        struct Failure: Decodable, Equatable {
            var code: Int?
            var message: String?
            var status: String?
        }
        var candidates: [Candidate]?
        var usageMetadata: Usage?
        var promptFeedback: Feedback?
        var error: Failure?
    }

    static func finishReason(_ reason: String?, hasToolCalls: Bool) -> String {
        switch reason {
        case "MAX_TOKENS": return "length"
        case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY": return "content_filter"
        default: return hasToolCalls ? "tool_calls" : "stop"
        }
    }

    /// A blocked prompt or an error object inside a 200 answer.
    static func failure(in answer: Answer) -> GatewayError? {
        if let error = answer.error {
            return GeminiAdapter.error(
                status: error.code ?? 502, statusName: error.status, message: error.message ?? "unknown error")
        }
        if answer.candidates?.isEmpty ?? true, let reason = answer.promptFeedback?.blockReason {
            return GatewayError(
                status: 400, type: "invalid_request_error",
                message: "Gemini blocked the prompt (blockReason: \(reason)).", code: "content_filter")
        }
        return nil
    }

    /// Converts a non-streamed answer.
    public func chatResponse(_ body: ByteBuffer, chat: ChatRequestEnvelope) throws(GatewayError) -> AdaptedResponse {
        let answer = try AdapterSupport.decode(Answer.self, from: body, provider: "Gemini")
        if let failure = Self.failure(in: answer) { throw failure }
        let choices = (answer.candidates ?? []).map { candidate in
            let parts = candidate.content?.parts ?? []
            let text = parts.filter { $0.thought != true }.compactMap(\.text).joined()
            let calls = parts.compactMap { part in
                part.functionCall.map {
                    OutputToolCall(
                        id: Self.callID(signature: part.thoughtSignature), name: $0.name,
                        arguments: AdapterSupport.jsonText($0.args))
                }
            }
            return ChatCompletionResult.Choice(
                content: calls.isEmpty || !text.isEmpty ? text : nil, toolCalls: calls,
                finishReason: Self.finishReason(candidate.finishReason, hasToolCalls: !calls.isEmpty))
        }
        let usage = answer.usageMetadata?.tokens ?? TokenUsage(promptTokens: 0, completionTokens: 0)
        let result = ChatCompletionResult(
            id: ResponseIdentity.newID(), model: chat.model, created: ResponseIdentity.now(), choices: choices,
            usage: usage, reasoningTokens: answer.usageMetadata?.thoughtsTokenCount)
        return AdaptedResponse(body: result.body(), usage: usage)
    }

    /// Converts the SSE stream of `GenerateContentResponse` events.
    public func makeChatStreamTranscoder(chat: ChatRequestEnvelope) -> any ChatStreamTranscoder {
        Transcoder(emitter: ChunkEmitter(model: chat.model, includeUsage: chat.includeUsage ?? false))
    }

    struct Transcoder: SSEEventTranscoder {
        var emitter: ChunkEmitter
        var usage: TokenUsage? { emitter.usage }
        var streamedText: String { emitter.text }
        var sse = SSEDecoder()
        var finishReason: String?
        var lastUsage: Usage?
        var sawToolCalls = false

        mutating func complete(into out: inout ByteBuffer) throws(GatewayError) {
            guard let finishReason else {
                throw .badGateway("The Gemini stream ended before a candidate finished; the answer is incomplete.")
            }
            emitter.text("", into: &out)
            emitter.finish(GeminiAdapter.finishReason(finishReason, hasToolCalls: sawToolCalls), into: &out)
            emitter.end(usage: lastUsage?.tokens, reasoningTokens: lastUsage?.thoughtsTokenCount, into: &out)
        }

        mutating func handle(_ event: SSEDecoder.Event, into out: inout ByteBuffer) throws(GatewayError) {
            guard !event.data.isEmpty else { return }
            let answer = try AdapterSupport.decode(
                Answer.self, from: ByteBuffer(string: event.data), provider: "Gemini")
            if let failure = GeminiAdapter.failure(in: answer) { throw failure }
            if let usage = answer.usageMetadata { lastUsage = usage }
            guard let candidate = answer.candidates?.first else { return }
            for part in candidate.content?.parts ?? [] {
                if let text = part.text, part.thought != true { emitter.text(text, into: &out) }
                if let call = part.functionCall {
                    sawToolCalls = true
                    let id = GeminiAdapter.callID(signature: part.thoughtSignature)
                    emitter.startToolCall(
                        key: id, id: id, name: call.name, arguments: AdapterSupport.jsonText(call.args), into: &out)
                }
            }
            if let reason = candidate.finishReason { finishReason = reason }
        }
    }

    // MARK: Embeddings, models, errors

    /// Converts to `batchEmbedContents`.
    public func embeddingsRequest(
        body: ByteBuffer, target: ModelRouter.Target, client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest {
        let request = try EmbeddingsRequest.decode(body)
        let model = "models/\(target.upstreamModel)"
        let requests: [JSONValue] = request.input.map { text in
            var entry: JSONObject = ["model": .string(model), "content": ["parts": [["text": .string(text)]]]]
            entry.set("outputDimensionality", AdapterSupport.number(request.dimensions))
            return .object(entry)
        }
        return UpstreamRequest(
            method: "POST",
            url: target.endpoint.baseURL.url(
                "/v1beta/models/\(Self.pathSafe(target.upstreamModel)):batchEmbedContents"),
            headers: headers(target.endpoint, client), body: AdapterSupport.body(["requests": .array(requests)]),
            timeouts: target.endpoint.timeouts)
    }

    /// Converts `{"embeddings":[{"values":[…]}]}`; Gemini reports no token usage here (0).
    public func embeddingsResponse(_ body: ByteBuffer, request: ByteBuffer) throws(GatewayError) -> AdaptedResponse {
        struct Answer: Decodable {
            struct Embedding: Decodable { var values: [Double] }
            var embeddings: [Embedding]
        }
        let answer = try AdapterSupport.decode(Answer.self, from: body, provider: "Gemini")
        let converted = try EmbeddingsRequest.decode(request).responseBody(
            vectors: answer.embeddings.map(\.values), promptTokens: 0)
        return AdaptedResponse(body: converted, usage: nil)
    }

    /// `GET {base}/v1beta/models`.
    public func modelsRequest(endpoint: ProviderEndpoint, client: ClientContext) -> UpstreamRequest {
        UpstreamRequest(
            method: "GET", url: endpoint.baseURL.url("/v1beta/models?pageSize=1000"),
            headers: headers(endpoint, client),
            body: nil, timeouts: endpoint.timeouts.capped(at: 10))
    }

    /// Parses `{"models":[{"name":"models/…"}]}`.
    public func modelsResponse(_ body: ByteBuffer, endpoint: ProviderEndpoint) throws(GatewayError) -> [ModelEntry] {
        struct Listing: Decodable {
            struct Model: Decodable { var name: String }
            var models: [Model]?
        }
        return (try AdapterSupport.decode(Listing.self, from: body, provider: "Gemini").models ?? []).map {
            ModelEntry(
                id: $0.name.hasPrefix("models/") ? String($0.name.dropFirst("models/".count)) : $0.name, created: 0,
                ownedBy: "google")
        }
    }

    /// `{"error":{"code","message","status"}}`, mapped by its status name.
    public func upstreamError(status: Int, body: ByteBuffer) -> GatewayError {
        struct Envelope: Decodable { var error: Answer.Failure }
        return AdapterSupport.upstreamError(Envelope.self, status: status, body: body, provider: "Gemini") {
            Self.error(status: status, statusName: $0.error.status, message: $0.error.message ?? "")
        }
    }

    static func error(status: Int, statusName: String?, message: String) -> GatewayError {
        let mapped: Int
        switch statusName {
        case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE": mapped = 400
        case "UNAUTHENTICATED": mapped = 401
        case "PERMISSION_DENIED": mapped = 403
        case "NOT_FOUND": mapped = 404
        case "RESOURCE_EXHAUSTED": mapped = 429
        case "INTERNAL": mapped = 500
        case "UNAVAILABLE": mapped = 503
        case "DEADLINE_EXCEEDED": mapped = 504
        default: mapped = status
        }
        return GatewayError(
            status: mapped, type: GatewayError.openAIType(forStatus: mapped), message: message,
            code: statusName.map { $0.lowercased() })
    }

    func headers(_ endpoint: ProviderEndpoint, _ client: ClientContext) -> [(name: String, value: String)] {
        AdapterSupport.headers(
            client, credential: (endpoint.apiKey?.value ?? client.bearerToken).map { ("x-goog-api-key", $0) })
    }
}
