import HTTPTypes
import NIOCore
import SwitchyardCore

/// `POST /v1/responses`: OpenAI's Responses API, streamed or whole, for every provider. To an
/// OpenAI upstream that serves `/v1/responses` the request and its answer go through unchanged
/// (but for `model` and the credentials); to any other it is translated into the canonical Chat
/// request and the answer translated back, streams event by event, and kept (with `store`) so a
/// later request can continue it.
struct ResponsesFrontDoor: FrontDoor {
    /// A parsed Responses request.
    struct Exchange: Sendable {
        var request: ResponsesRequest
    }

    func parse(_ body: ByteBuffer, headers: HTTPFields, accountsUsage: Bool) throws(GatewayError) -> Exchange {
        Exchange(request: try ResponsesRequest.parse(body.readableBytesView))
    }

    func model(of exchange: Exchange) -> String { exchange.request.model }

    /// The translated prompt as the model's tokenizer counts it, and `max_output_tokens`.
    func demand(of exchange: Exchange, counter: ChatTokenCounter?, bodySize: Int) -> TokenDemand {
        let chat = try? exchange.request.chat()
        let prompt =
            counter.flatMap { counter in
                chat.map {
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
        let chat = try Self.envelope(exchange.request)
        return try adapter.chatRequest(chat.envelope, body: chat.body, target: target, client: client)
            .readingWholeAnswer(unless: streamed)
    }

    func answer(
        _ raw: ByteBuffer, to exchange: Exchange, body: ByteBuffer, adapter: any ProviderAdapter,
        target: ModelRouter.Target
    ) throws(GatewayError) -> AdaptedResponse {
        if target.endpoint.servesResponses { return ResponsesPassthrough.answer(raw) }
        let chat = try Self.envelope(exchange.request)
        let completion = try adapter.chatResponse(raw, chat: chat.envelope)
        let response = try ChatToResponses.response(completion.body, to: exchange.request)
        return AdaptedResponse(
            body: response.body, usage: response.usage ?? completion.usage, document: response.document)
    }

    func streamTranscoder(
        for exchange: Exchange, adapter: any ProviderAdapter, target: ModelRouter.Target
    ) -> (any ChatStreamTranscoder)? {
        guard exchange.request.stream else { return nil }
        if target.endpoint.servesResponses { return ResponsesPassthroughTranscoder() }
        guard let chat = try? Self.envelope(exchange.request) else { return nil }
        let counter = try? ChatTokenCounter(model: exchange.request.model)
        let estimate = counter?.promptTokens(messages: chat.envelope.messages, tools: chat.envelope.tools) ?? 0
        return CanonicalStreamTranscoder(
            inner: adapter.makeChatStreamTranscoder(chat: chat.envelope),
            machine: ResponsesStreamMachine(request: exchange.request, inputEstimate: estimate), counter: counter)
    }

    func continues(_ exchange: Exchange, target: ModelRouter.Target) -> String? {
        target.endpoint.servesResponses ? nil : exchange.request.previousResponseID
    }

    func continuing(_ exchange: Exchange, _ kept: StoredResponse) throws(GatewayError) -> Exchange {
        var exchange = exchange
        exchange.request.history = kept.conversation
        return exchange
    }

    func keeping(_ exchange: Exchange, answer document: JSONValue, target: ModelRouter.Target) -> KeptAnswer? {
        guard exchange.request.store, !target.endpoint.servesResponses, let id = document["id"]?.stringValue,
            let conversation = try? exchange.request.conversation(adding: document["output"]?.arrayValue ?? [])
        else { return nil }
        return KeptAnswer(
            id: id, response: document, conversation: conversation, inputItems: exchange.request.inputItems)
    }

    /// The canonical Chat request of `request`, parsed as chat requests are; the adapters learn
    /// the usage, which every response reports.
    static func envelope(
        _ request: ResponsesRequest
    ) throws(GatewayError) -> (envelope: ChatRequestEnvelope, body: ByteBuffer) {
        let body = ByteBuffer(bytes: JSONWriter.bytes(.object(try request.chat())))
        var envelope = try ChatRequestEnvelope.parse(body.readableBytesView)
        envelope.accountUsage = true
        return (envelope, body)
    }
}
