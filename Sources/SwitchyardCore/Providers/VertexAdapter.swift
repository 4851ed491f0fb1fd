import NIOCore

/// Google Vertex AI's Gemini models: the Gemini adapter's requests and answers, sent to
/// `/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent`
/// with an OAuth access token instead of an API key. Claude models on Vertex go to
/// `VertexClaudeAdapter` (see `specialized(for:)`).
public struct VertexAdapter: ProviderAdapter {
    public let kind = ProviderKind.vertex
    private let gemini = GeminiAdapter()

    /// An adapter.
    public init() {}

    /// Claude models are Anthropic's publisher on Vertex.
    public func specialized(for model: String) -> any ProviderAdapter {
        model.hasPrefix("claude") ? VertexClaudeAdapter() : self
    }

    /// Gemini's request at Vertex's address.
    public func chatRequest(
        _ chat: ChatRequestEnvelope, body: ByteBuffer, target: ModelRouter.Target, client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest {
        let request = try gemini.chatRequest(chat, body: body, target: target, client: client)
        let method = chat.stream ? ":streamGenerateContent?alt=sse" : ":generateContent"
        return try Self.vertex(request, target, publisher: "google", method: method)
    }

    /// Gemini's answer.
    public func chatResponse(_ body: ByteBuffer, chat: ChatRequestEnvelope) throws(GatewayError) -> AdaptedResponse {
        try gemini.chatResponse(body, chat: chat)
    }

    /// Gemini's stream.
    public func makeChatStreamTranscoder(chat: ChatRequestEnvelope) -> any ChatStreamTranscoder {
        gemini.makeChatStreamTranscoder(chat: chat)
    }

    /// Vertex serves embeddings through another API (`:predict`), which this build does not speak.
    public func embeddingsRequest(
        body: ByteBuffer, target: ModelRouter.Target, client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest {
        throw .invalidRequest(
            "Embeddings are not served through Vertex AI by this gateway; route them to Gemini's API.", param: "model")
    }

    /// Never reached (embeddings are refused).
    public func embeddingsResponse(_ body: ByteBuffer, request: ByteBuffer) throws(GatewayError) -> AdaptedResponse {
        try gemini.embeddingsResponse(body, request: request)
    }

    /// Vertex lists no models here; the gateway lists none for it.
    public func modelsRequest(endpoint: ProviderEndpoint, client: ClientContext) -> UpstreamRequest {
        UpstreamRequest(
            method: "GET", url: endpoint.baseURL.url("/"), headers: [], body: nil, timeouts: endpoint.timeouts)
    }

    /// No models are listed.
    public func modelsResponse(_ body: ByteBuffer, endpoint: ProviderEndpoint) throws(GatewayError) -> [ModelEntry] {
        []
    }

    /// Google's error shape, as Gemini's, with what is the gateway's concern made so (see
    /// `cloudError`).
    public func upstreamError(status: Int, body: ByteBuffer) -> GatewayError {
        Self.cloudError(gemini.upstreamError(status: status, body: body))
    }

    /// A Vertex refusal as the client should see it: refused credentials are the gateway's (a 502
    /// naming Vertex AI, not a 401 the client would take for its own key), and throttling says
    /// when to come back.
    static func cloudError(_ error: GatewayError) -> GatewayError {
        var error = error
        if error.status == 401 {
            return .badGateway("Vertex AI refused the gateway's Google credentials: \(error.message)")
        }
        if error.status == 429, error.headers["retry-after"] == nil { error.headers["retry-after"] = "1" }
        return error
    }

    /// `request` re-addressed to Vertex: the publisher's model `method`, the provider's key
    /// headers dropped, the access token left to the server.
    static func vertex(
        _ request: UpstreamRequest, _ target: ModelRouter.Target, publisher: String, method: String
    ) throws(GatewayError) -> UpstreamRequest {
        guard case .vertex(let access)? = target.endpoint.cloud else {
            throw .badGateway(
                "The Vertex AI provider `\(target.endpoint.id)` has no project or credentials configured.")
        }
        var request = request
        request.url = target.endpoint.baseURL.url(
            "/v1/projects/\(AWSSigV4.encode(access.project))/locations/\(AWSSigV4.encode(access.location))"
                + "/publishers/\(publisher)/models/\(AWSSigV4.encode(target.upstreamModel))\(method)")
        let dropped: Set<String> = ["x-goog-api-key", "x-api-key", "anthropic-version", "authorization"]
        request.headers = request.headers.filter { !dropped.contains($0.name.lowercased()) }
        request.signing = .google(provider: target.endpoint.id, credentials: access.credentials)
        return request
    }
}

/// Anthropic's Claude models on Vertex AI: the Anthropic adapter's requests and answers, the body
/// without `model` and with `anthropic_version: vertex-2023-10-16`, sent to the model's
/// `:rawPredict` (or `:streamRawPredict`).
public struct VertexClaudeAdapter: ProviderAdapter {
    public let kind = ProviderKind.vertex
    private let anthropic = AnthropicAdapter()

    /// An adapter.
    public init() {}

    /// Anthropic's request, re-addressed and re-versioned for Vertex.
    public func chatRequest(
        _ chat: ChatRequestEnvelope, body: ByteBuffer, target: ModelRouter.Target, client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest {
        var request = try anthropic.chatRequest(chat, body: body, target: target, client: client)
        guard let native = request.body, var object = (try? JSONParser.parse(native.readableBytesView))?.objectValue
        else { throw .badGateway("The request for Claude on Vertex AI could not be made.") }
        object["model"] = nil
        object["anthropic_version"] = "vertex-2023-10-16"
        request.body = AdapterSupport.body(.object(object))
        return try VertexAdapter.vertex(
            request, target, publisher: "anthropic", method: chat.stream ? ":streamRawPredict" : ":rawPredict")
    }

    /// Anthropic's answer.
    public func chatResponse(_ body: ByteBuffer, chat: ChatRequestEnvelope) throws(GatewayError) -> AdaptedResponse {
        try anthropic.chatResponse(body, chat: chat)
    }

    /// Anthropic's stream.
    public func makeChatStreamTranscoder(chat: ChatRequestEnvelope) -> any ChatStreamTranscoder {
        anthropic.makeChatStreamTranscoder(chat: chat)
    }

    /// Claude has no embeddings.
    public func embeddingsRequest(
        body: ByteBuffer, target: ModelRouter.Target, client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest {
        try anthropic.embeddingsRequest(body: body, target: target, client: client)
    }

    /// Never reached (Claude has no embeddings).
    public func embeddingsResponse(_ body: ByteBuffer, request: ByteBuffer) throws(GatewayError) -> AdaptedResponse {
        try anthropic.embeddingsResponse(body, request: request)
    }

    /// As the Gemini side: nothing listed.
    public func modelsRequest(endpoint: ProviderEndpoint, client: ClientContext) -> UpstreamRequest {
        VertexAdapter().modelsRequest(endpoint: endpoint, client: client)
    }

    /// No models are listed.
    public func modelsResponse(_ body: ByteBuffer, endpoint: ProviderEndpoint) throws(GatewayError) -> [ModelEntry] {
        []
    }

    /// Vertex answers Claude's errors in Anthropic's shape, or Google's for its own refusals.
    public func upstreamError(status: Int, body: ByteBuffer) -> GatewayError {
        String(buffer: body).contains("\"status\"")
            ? VertexAdapter().upstreamError(status: status, body: body)
            : VertexAdapter.cloudError(anthropic.upstreamError(status: status, body: body))
    }
}
