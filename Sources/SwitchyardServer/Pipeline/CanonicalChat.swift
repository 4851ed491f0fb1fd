import NIOCore
import SwitchyardCore

/// A front door's request translated into the canonical Chat request, parsed as chat requests are,
/// and what the routed provider's adapter makes of it: the upstream request, the whole answer as a
/// chat completion, and the stream as chat chunks. The adapters learn the usage, which every
/// answer of the translating front doors reports.
struct CanonicalChat: Sendable {
    /// The parsed Chat request.
    let envelope: ChatRequestEnvelope
    /// Its bytes, as the adapters take them.
    let body: ByteBuffer

    /// The canonical request for a translated `document`.
    init(_ document: JSONObject) throws(GatewayError) {
        body = ByteBuffer(bytes: JSONWriter.bytes(.object(document)))
        envelope = try ChatRequestEnvelope.parse(body.readableBytesView)
    }

    /// The upstream request for `target`, by its adapter.
    func upstreamRequest(
        adapter: any ProviderAdapter, target: ModelRouter.Target, client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest {
        try adapter.chatRequest(envelope, body: body, target: target, client: client)
            .readingWholeAnswer(unless: envelope.stream)
    }

    /// The provider's whole answer as a chat completion.
    func completion(_ raw: ByteBuffer, adapter: any ProviderAdapter) throws(GatewayError) -> AdaptedResponse {
        try adapter.chatResponse(raw, chat: envelope)
    }

    /// The provider's stream as chat chunks.
    func chunks(adapter: any ProviderAdapter) -> any ChatStreamTranscoder {
        adapter.makeChatStreamTranscoder(chat: envelope)
    }

    /// The prompt as `counter` counts it.
    func promptTokens(_ counter: ChatTokenCounter) -> Int {
        counter.promptTokens(messages: envelope.messages, tools: envelope.tools)
    }
}
