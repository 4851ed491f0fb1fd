import HTTPTypes
import NIOCore
import SwitchyardCore

/// `POST /v1/chat/completions`: OpenAI's Chat Completions API, streamed or whole, for every
/// provider.
struct ChatFrontDoor: FrontDoor {
    func parse(_ body: ByteBuffer, headers: HTTPFields) throws(GatewayError) -> ChatRequestEnvelope {
        try ChatRequestEnvelope.parse(body.readableBytesView)
    }

    func model(of request: ChatRequestEnvelope) -> String { request.model }

    /// The messages and tools as the model's tokenizer counts them (a quarter of the body's bytes
    /// without the rank files, so spending stays bounded), and `max_completion_tokens` or
    /// `max_tokens`.
    func demand(of request: ChatRequestEnvelope, counter: ChatTokenCounter?, bodySize: Int) -> TokenDemand {
        TokenDemand(
            prompt: counter?.promptTokens(messages: request.messages, tools: request.tools) ?? bodySize / 4,
            completion: request.maxCompletionTokens)
    }

    func upstreamRequest(
        _ request: ChatRequestEnvelope, body: ByteBuffer, target: ModelRouter.Target, adapter: any ProviderAdapter,
        client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest {
        try adapter.chatRequest(request, body: body, target: target, client: client)
            .readingWholeAnswer(unless: request.stream)
    }

    func answer(
        _ raw: ByteBuffer, to request: ChatRequestEnvelope, body: ByteBuffer, adapter: any ProviderAdapter,
        target: ModelRouter.Target
    ) throws(GatewayError) -> AdaptedResponse {
        try adapter.chatResponse(raw, chat: request)
    }

    func streamTranscoder(
        for request: ChatRequestEnvelope, adapter: any ProviderAdapter, target: ModelRouter.Target
    ) -> (any ChatStreamTranscoder)? {
        request.stream ? adapter.makeChatStreamTranscoder(chat: request) : nil
    }
}
