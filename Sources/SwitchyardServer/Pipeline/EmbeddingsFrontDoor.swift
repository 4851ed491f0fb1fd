import Foundation
import HTTPTypes
import NIOCore
import NIOFoundationCompat
import SwitchyardCore

/// `POST /v1/embeddings`: OpenAI's Embeddings API for the providers that embed. An embedding has
/// no completion: admission reserves the input's tokens only.
struct EmbeddingsFrontDoor: FrontDoor {
    /// The fields of an embeddings request the gateway checks before routing.
    struct Envelope: Decodable, Sendable {
        var model: String
        var input: JSONValue
    }

    func parse(_ body: ByteBuffer, headers: HTTPFields) throws(GatewayError) -> Envelope {
        let envelope: Envelope = try RequestDecoding.decode(Data(buffer: body))
        guard !envelope.model.isEmpty else {
            throw GatewayError.invalidRequest("`model` must be a non-empty string.", param: "model")
        }
        return envelope
    }

    func model(of request: Envelope) -> String { request.model }

    func demand(of request: Envelope, counter: ChatTokenCounter?, bodySize: Int) -> TokenDemand {
        TokenDemand(prompt: Self.inputTokens(request.input, counter: counter), completion: 0)
    }

    /// The tokens of an embeddings input: texts counted (by bytes without the rank files), token
    /// arrays by their length.
    static func inputTokens(_ input: JSONValue, counter: ChatTokenCounter?) -> Int {
        switch input {
        case .string(let text): counter?.completionTokens(text: text) ?? text.utf8.count / 4
        case .number: 1
        case .array(let items): items.reduce(0) { $0 + inputTokens($1, counter: counter) }
        case .object, .bool, .null: 0
        }
    }

    func upstreamRequest(
        _ request: Envelope, body: ByteBuffer, target: ModelRouter.Target, adapter: any ProviderAdapter,
        client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest {
        try adapter.embeddingsRequest(body: body, target: target, client: client).readingWholeAnswer()
    }

    /// The embeddings in OpenAI's shape, with the provider's count of the input (Gemini reports
    /// none, so the gateway's count stands).
    func answer(
        _ raw: ByteBuffer, to request: Envelope, body: ByteBuffer, adapter: any ProviderAdapter,
        target: ModelRouter.Target
    ) throws(GatewayError) -> AdaptedResponse {
        try adapter.embeddingsResponse(raw, request: body)
    }
}
