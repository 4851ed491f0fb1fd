import HTTPTypes
import NIOCore
import SwitchyardCore

/// `POST /v1/responses`: OpenAI's Responses API, streamed or whole, for every provider. To an
/// OpenAI upstream that serves `/v1/responses` the request and its answer go through unchanged
/// (but for `model` and the credentials); to any other it is translated into the canonical Chat
/// request and the answer translated back, streams event by event, and kept (with `store`) so a
/// later request can continue it.
struct ResponsesFrontDoor: FrontDoor {
    /// A parsed Responses request and, once prepared for a provider that needs it, its canonical
    /// Chat request.
    struct Exchange: Sendable {
        var request: ResponsesRequest
        var chat: CanonicalChat?

        /// The canonical Chat request: the prepared one, or made now for a fallback deployment
        /// that needs a translation the first one did not.
        func canonical() throws(GatewayError) -> CanonicalChat {
            if let chat { return chat }
            return try CanonicalChat(request.chat())
        }
    }

    func parse(_ body: ByteBuffer, headers: HTTPFields) throws(GatewayError) -> Exchange {
        Exchange(request: try ResponsesRequest.parse(body.readableBytesView))
    }

    func model(of exchange: Exchange) -> String { exchange.request.model }

    /// The translated prompt as the model's tokenizer counts it, and `max_output_tokens`.
    func demand(of exchange: Exchange, counter: ChatTokenCounter?, bodySize: Int) -> TokenDemand {
        let prompt =
            counter.flatMap { counter in
                exchange.chat.map { $0.promptTokens(counter) }
                    ?? (try? exchange.request.chat()).map {
                        counter.promptTokens(messages: $0["messages"]?.arrayValue ?? [], tools: $0["tools"]?.arrayValue)
                    }
            } ?? bodySize / 4
        return TokenDemand(prompt: prompt, completion: exchange.request.document["max_output_tokens"]?.intValue)
    }

    func upstreamRequest(
        _ exchange: Exchange, body: ByteBuffer, target: ModelRouter.Target, adapter: any ProviderAdapter,
        client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest {
        let streamed = exchange.request.stream
        if target.endpoint.servesResponses {
            return ResponsesPassthrough.request(exchange.request, body: body, target: target, client: client)
                .readingWholeAnswer(unless: streamed)
        }
        return try exchange.canonical().upstreamRequest(adapter: adapter, target: target, client: client)
    }

    func answer(
        _ raw: ByteBuffer, to exchange: Exchange, body: ByteBuffer, adapter: any ProviderAdapter,
        target: ModelRouter.Target
    ) throws(GatewayError) -> AdaptedResponse {
        if target.endpoint.servesResponses { return ResponsesPassthrough.answer(raw) }
        let completion = try exchange.canonical().completion(raw, adapter: adapter)
        let response = try ChatToResponses.response(completion.body, to: exchange.request)
        return AdaptedResponse(
            body: response.body, usage: response.usage ?? completion.usage, document: response.document)
    }

    func streamTranscoder(
        for exchange: Exchange, adapter: any ProviderAdapter, target: ModelRouter.Target
    ) -> (any ChatStreamTranscoder)? {
        guard exchange.request.stream else { return nil }
        if target.endpoint.servesResponses { return ObservedRelayTranscoder(ResponsesStreamObserver()) }
        guard let chat = try? exchange.canonical() else { return nil }
        let counter = try? ChatTokenCounter(model: exchange.request.model)
        return CanonicalStreamTranscoder(
            inner: chat.chunks(adapter: adapter),
            machine: ResponsesStreamMachine(
                request: exchange.request, inputEstimate: counter.map(chat.promptTokens) ?? 0),
            counter: counter)
    }

    func passesThrough(_ exchange: Exchange, to target: ModelRouter.Target) -> Bool {
        target.endpoint.servesResponses
    }

    func continues(_ exchange: Exchange, target: ModelRouter.Target) -> String? {
        target.endpoint.servesResponses ? nil : exchange.request.previousResponseID
    }

    /// To a provider that serves `/responses` the request goes as it is; for any other it is
    /// translated once, after the conversation it continues.
    func preparing(
        _ exchange: Exchange, for target: ModelRouter.Target, continuing kept: StoredResponse?
    ) throws(GatewayError) -> Exchange {
        guard !target.endpoint.servesResponses else { return exchange }
        var exchange = exchange
        if let kept { exchange.request.history = kept.conversation }
        exchange.chat = try CanonicalChat(exchange.request.chat())
        return exchange
    }

    func keeping(_ exchange: Exchange, answer document: JSONValue, target: ModelRouter.Target) -> KeptAnswer? {
        guard exchange.request.store, !target.endpoint.servesResponses, let id = document["id"]?.stringValue,
            let conversation = try? exchange.request.conversation(adding: document["output"]?.arrayValue ?? [])
        else { return nil }
        return KeptAnswer(
            id: id, response: document, conversation: conversation, inputItems: exchange.request.inputItems)
    }
}
