import HTTPTypes
import NIOCore
import SwitchyardCore

/// `POST /v1/messages`: Anthropic's Messages API, streamed or whole, for every provider. To an
/// Anthropic upstream the request and its answer go through unchanged (but for `model` and the
/// credentials); to any other it is translated into the canonical Chat request, sent through the
/// provider's adapter, and the answer translated back, streams event by event.
struct MessagesFrontDoor: FrontDoor {
    /// A parsed Messages request with what its translation needs.
    struct Exchange: Sendable {
        /// The request as parsed.
        var request: MessagesRequest
        /// The canonical Chat request, or why there is none.
        var chat: Result<CanonicalChat, GatewayError>
        /// The gateway's count of the translated prompt, for a stream's `message_start`.
        var inputEstimate: Int
        /// `anthropic-version` and `anthropic-beta` as the client sent them, for an Anthropic
        /// upstream.
        var version: String?
        var beta: String?
    }

    func parse(_ body: ByteBuffer, headers: HTTPFields) throws(GatewayError) -> Exchange {
        let request = try MessagesRequest.parse(body.readableBytesView)
        let chat = request.chat.flatMap { document -> Result<CanonicalChat, GatewayError> in
            do throws(GatewayError) { return .success(try CanonicalChat(document)) } catch { return .failure(error) }
        }
        var estimate = 0
        if request.stream, case .success(let translated) = chat {
            estimate =
                (try? ChatTokenCounter(model: request.model)).map(translated.promptTokens) ?? body.readableBytes / 4
        }
        return Exchange(
            request: request, chat: chat, inputEstimate: estimate, version: headers.value(of: Self.version),
            beta: headers.value(of: Self.beta))
    }

    func model(of exchange: Exchange) -> String { exchange.request.model }

    /// The translated prompt as the model's tokenizer counts it (a quarter of the body's bytes when
    /// it cannot be translated or counted), and `max_tokens`.
    func demand(of exchange: Exchange, counter: ChatTokenCounter?, bodySize: Int) -> TokenDemand {
        let prompt = (try? exchange.chat.get()).flatMap { chat in counter.map(chat.promptTokens) } ?? bodySize / 4
        return TokenDemand(prompt: prompt, completion: exchange.request.maxTokens)
    }

    func upstreamRequest(
        _ exchange: Exchange, body: ByteBuffer, target: ModelRouter.Target, adapter: any ProviderAdapter,
        client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest {
        let streamed = exchange.request.stream
        guard adapter.kind != .anthropic else {
            return MessagesPassthrough.request(
                exchange.request, body: body, target: target, client: client, version: exchange.version,
                beta: exchange.beta
            ).readingWholeAnswer(unless: streamed)
        }
        return try exchange.chat.get().upstreamRequest(adapter: adapter, target: target, client: client)
    }

    func answer(
        _ raw: ByteBuffer, to exchange: Exchange, body: ByteBuffer, adapter: any ProviderAdapter,
        target: ModelRouter.Target
    ) throws(GatewayError) -> AdaptedResponse {
        guard adapter.kind != .anthropic else {
            return AdaptedResponse(body: raw, usage: MessagesPassthrough.usage(raw))
        }
        let completion = try exchange.chat.get().completion(raw, adapter: adapter)
        let message = try ChatToMessages.message(completion.body, request: exchange.request)
        return AdaptedResponse(body: message.body, usage: message.usage ?? completion.usage)
    }

    func streamTranscoder(
        for exchange: Exchange, adapter: any ProviderAdapter, target: ModelRouter.Target
    ) -> (any ChatStreamTranscoder)? {
        guard exchange.request.stream else { return nil }
        guard adapter.kind != .anthropic, case .success(let chat) = exchange.chat else {
            return ObservedRelayTranscoder(MessagesStreamObserver())
        }
        return CanonicalStreamTranscoder(
            inner: chat.chunks(adapter: adapter),
            machine: MessagesStreamMachine(
                model: exchange.request.model, inputEstimate: exchange.inputEstimate,
                toolNames: exchange.request.toolNames),
            counter: try? ChatTokenCounter(model: exchange.request.model))
    }

    static let version = HTTPField.Name("anthropic-version")!
    static let beta = HTTPField.Name("anthropic-beta")!
}
