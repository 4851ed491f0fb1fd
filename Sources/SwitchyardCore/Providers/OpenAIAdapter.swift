import Foundation
import NIOCore
import NIOFoundationCompat

/// OpenAI and every OpenAI-compatible server: the request travels as the client sent it (only the
/// model is renamed when a route says so) and the answer comes back untouched.
public struct OpenAIAdapter: ProviderAdapter {
    /// Creates the adapter.
    public init() {}

    /// `.openai`.
    public var kind: ProviderKind { .openai }

    /// Forwards the body, renaming `model` when the route rewrites it.
    public func chatRequest(
        _ chat: ChatRequestEnvelope,
        body: ByteBuffer,
        target: ModelRouter.Target,
        client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest {
        UpstreamRequest(
            method: "POST",
            url: target.endpoint.baseURL.url("/chat/completions"),
            headers: headers(
                endpoint: target.endpoint, client: client, accept: chat.stream ? "text/event-stream" : nil),
            body: try askingForUsage(try renamed(body, target: target), chat: chat),
            timeouts: target.endpoint.timeouts
        )
    }

    /// Every answer is priced, so a stream must end with a usage chunk: ask for it (the relay hides
    /// it from a client that did not).
    func askingForUsage(_ body: ByteBuffer, chat: ChatRequestEnvelope) throws(GatewayError) -> ByteBuffer {
        guard chat.stream, chat.includeUsage != true else { return body }
        guard
            let rewritten = TopLevelFieldRewriter.settingValue(
                "stream_options", toJSON: #"{"include_usage":true}"#, in: body,
                absent: chat.document.map { $0["stream_options"] == nil } ?? false)
        else {
            throw .invalidRequest("The request body must be a JSON object.")
        }
        return rewritten
    }

    /// Checks that a 2xx answer is a JSON object, reads its usage and passes it on unchanged.
    public func chatResponse(_ body: ByteBuffer, chat: ChatRequestEnvelope) throws(GatewayError) -> AdaptedResponse {
        let usage: JSONValue?
        do {
            usage = try JSONParser.member("usage", ofObject: body.readableBytesView)
        } catch {
            throw .badGateway("The upstream answered the chat completion request with a body that is not one.")
        }
        return AdaptedResponse(body: body, usage: TokenUsage(json: usage))
    }

    /// An event relay that reads the usage chunk (and hides it when the client did not ask) and
    /// notices a stream cut before `data: [DONE]`.
    public func makeChatStreamTranscoder(chat: ChatRequestEnvelope) -> any ChatStreamTranscoder {
        UsageTrackingSSETranscoder(hideUsageChunk: chat.includeUsage != true)
    }

    /// Forwards the embeddings body, renaming `model` when the route rewrites it.
    public func embeddingsRequest(
        body: ByteBuffer,
        target: ModelRouter.Target,
        client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest {
        post("/embeddings", body: try renamed(body, target: target), target: target, client: client, accept: nil)
    }

    /// Checks the embeddings answer is a JSON object and passes it on.
    public func embeddingsResponse(_ body: ByteBuffer, request: ByteBuffer) throws(GatewayError) -> AdaptedResponse {
        // One scan checks the answer is an object and reads its usage; the vectors pass unbuilt.
        let usage: JSONValue?
        do {
            usage = try JSONParser.member("usage", ofObject: body.readableBytesView)
        } catch {
            throw .badGateway("The upstream answered the embeddings request with a body that is not a JSON object.")
        }
        return AdaptedResponse(body: body, usage: .embedding(promptTokens: usage?["prompt_tokens"]?.intValue))
    }

    /// `GET {base}/models`.
    public func modelsRequest(endpoint: ProviderEndpoint, client: ClientContext) -> UpstreamRequest {
        UpstreamRequest(
            method: "GET",
            url: endpoint.baseURL.url("/models"),
            headers: headers(endpoint: endpoint, client: client, accept: nil),
            body: nil,
            timeouts: endpoint.timeouts.capped(at: 10)
        )
    }

    /// Parses `{"data":[{"id","created","owned_by"}]}`.
    public func modelsResponse(_ body: ByteBuffer, endpoint: ProviderEndpoint) throws(GatewayError) -> [ModelEntry] {
        struct Listing: Decodable {
            struct Item: Decodable {
                var id: String
                var created: Int?
                var ownedBy: String?
                enum CodingKeys: String, CodingKey {
                    case id, created
                    case ownedBy = "owned_by"
                }
            }
            var data: [Item]
        }
        guard let listing = try? JSONDecoder().decode(Listing.self, from: Data(buffer: body)) else {
            throw .badGateway("Provider `\(endpoint.id)` answered its model list with something that is not one.")
        }
        return listing.data.map {
            ModelEntry(id: $0.id, created: $0.created ?? 0, ownedBy: $0.ownedBy ?? endpoint.id.rawValue)
        }
    }

    /// Keeps OpenAI's own error body fields; anything else becomes a message with the status.
    public func upstreamError(status: Int, body: ByteBuffer) -> GatewayError {
        UpstreamErrorReshaper.reshape(status: status, body: body, provider: "OpenAI")
    }

    func post(
        _ path: String, body: ByteBuffer, target: ModelRouter.Target, client: ClientContext, accept: String?
    ) -> UpstreamRequest {
        UpstreamRequest(
            method: "POST", url: target.endpoint.baseURL.url(path),
            headers: headers(endpoint: target.endpoint, client: client, accept: accept), body: body,
            timeouts: target.endpoint.timeouts)
    }

    func headers(endpoint: ProviderEndpoint, client: ClientContext, accept: String?) -> [(name: String, value: String)]
    {
        AdapterSupport.headers(
            client,
            credential: (endpoint.apiKey.map { "Bearer \($0.value)" } ?? client.authorization).map {
                ("authorization", $0)
            },
            extra: accept.map { [("accept", $0)] } ?? [])
    }

    func renamed(_ body: ByteBuffer, target: ModelRouter.Target) throws(GatewayError) -> ByteBuffer {
        guard target.upstreamModel != target.requestedModel else { return body }
        guard let rewritten = TopLevelFieldRewriter.replacingString("model", with: target.upstreamModel, in: body)
        else {
            throw .invalidRequest("`model` must be a string field of the request object.", param: "model")
        }
        return rewritten
    }
}
