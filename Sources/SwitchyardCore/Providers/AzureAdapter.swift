import NIOCore

/// Azure OpenAI: OpenAI's API and answers, reached through a deployment and an `api-version`
/// (`/openai/deployments/{deployment}/chat/completions?api-version=…`) or through the `/openai/v1/`
/// API, with the key in `api-key` (or an Entra ID bearer token). Everything else is OpenAI's.
public struct AzureAdapter: ProviderAdapter {
    public let kind = ProviderKind.azure
    private let openai = OpenAIAdapter()

    /// An adapter.
    public init() {}

    /// OpenAI's request, sent to the model's deployment.
    public func chatRequest(
        _ chat: ChatRequestEnvelope, body: ByteBuffer, target: ModelRouter.Target, client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest {
        try azure(
            openai.chatRequest(chat, body: body, target: target, client: client), target.endpoint, target.upstreamModel,
            "chat/completions")
    }

    /// OpenAI's answer.
    public func chatResponse(_ body: ByteBuffer, chat: ChatRequestEnvelope) throws(GatewayError) -> AdaptedResponse {
        try openai.chatResponse(body, chat: chat)
    }

    /// OpenAI's stream.
    public func makeChatStreamTranscoder(chat: ChatRequestEnvelope) -> any ChatStreamTranscoder {
        openai.makeChatStreamTranscoder(chat: chat)
    }

    /// OpenAI's embeddings request, sent to the model's deployment.
    public func embeddingsRequest(
        body: ByteBuffer, target: ModelRouter.Target, client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest {
        try azure(
            openai.embeddingsRequest(body: body, target: target, client: client), target.endpoint, target.upstreamModel,
            "embeddings")
    }

    /// OpenAI's embeddings answer.
    public func embeddingsResponse(_ body: ByteBuffer, request: ByteBuffer) throws(GatewayError) -> AdaptedResponse {
        try openai.embeddingsResponse(body, request: request)
    }

    /// `GET /openai/models` of the resource.
    public func modelsRequest(endpoint: ProviderEndpoint, client: ClientContext) -> UpstreamRequest {
        let request = openai.modelsRequest(endpoint: endpoint, client: client)
        return (try? azure(request, endpoint, nil, "models")) ?? request
    }

    /// OpenAI's listing.
    public func modelsResponse(_ body: ByteBuffer, endpoint: ProviderEndpoint) throws(GatewayError) -> [ModelEntry] {
        try openai.modelsResponse(body, endpoint: endpoint)
    }

    /// Azure's errors are OpenAI-shaped.
    public func upstreamError(status: Int, body: ByteBuffer) -> GatewayError {
        UpstreamErrorReshaper.reshape(status: status, body: body, provider: "Azure OpenAI")
    }

    /// `request` sent to Azure: its URL for `operation` of `model`'s deployment, its credential as
    /// `api-key` unless a bearer token is configured.
    func azure(
        _ request: UpstreamRequest, _ endpoint: ProviderEndpoint, _ model: String?, _ operation: String
    ) throws(GatewayError) -> UpstreamRequest {
        guard case .azure(let access)? = endpoint.cloud else {
            throw .badGateway("The Azure provider `\(endpoint.id)` has no API version configured.")
        }
        var request = request
        if access.apiVersion == "v1" {
            request.url = endpoint.baseURL.url("/openai/v1/\(operation)")
            // The v1 API names the deployment as the body's model.
            if let model, let deployment = access.deployments[model], let body = request.body,
                let renamed = TopLevelFieldRewriter.settingValue(
                    "model", toJSON: JSONString.quoted(deployment), in: body)
            {
                request.body = renamed
            }
        } else if let model {
            let deployment = access.deployments[model] ?? model
            request.url = endpoint.baseURL.url(
                "/openai/deployments/\(AWSSigV4.encode(deployment))/\(operation)?api-version=\(access.apiVersion)")
        } else {
            request.url = endpoint.baseURL.url("/openai/\(operation)?api-version=\(access.apiVersion)")
        }
        if !access.bearer {
            request.headers = request.headers.map { header in
                guard header.name == "authorization", header.value.hasPrefix("Bearer ") else { return header }
                return ("api-key", String(header.value.dropFirst("Bearer ".count)))
            }
        }
        return request
    }
}
