import NIOCore

/// Converts a provider's stream for an Anthropic Messages client: the provider adapter's own
/// transcoder makes the canonical Chat stream, whose chunks `MessagesStreamMachine` turns into
/// Anthropic events. Usage and the streamed text come from the provider's transcoder.
public struct MessagesStreamTranscoder: ChatStreamTranscoder {
    private var inner: any ChatStreamTranscoder
    private var sse = SSEDecoder()
    private var machine: MessagesStreamMachine
    private let counter: ChatTokenCounter?

    /// A transcoder over `inner` (the routed adapter's, for the translated request); `counter`
    /// counts the output when the provider reports no usage.
    public init(inner: any ChatStreamTranscoder, machine: MessagesStreamMachine, counter: ChatTokenCounter?) {
        self.inner = inner
        self.machine = machine
        self.counter = counter
    }

    public var usage: TokenUsage? { inner.usage ?? machine.usage }
    public var streamedText: String { inner.streamedText }

    public mutating func transcode(_ chunk: ByteBuffer) throws(GatewayError) -> ByteBuffer? {
        var out = ByteBuffer()
        machine.start(into: &out)
        if let chat = try inner.transcode(chunk) { try handle(sse.feed(chat), into: &out) }
        return out
    }

    public mutating func finish() throws(GatewayError) -> ByteBuffer? {
        var out = ByteBuffer()
        machine.start(into: &out)
        if let chat = try inner.finish() { try handle(sse.feed(chat), into: &out) }
        try handle(sse.finish(), into: &out)
        let text = inner.streamedText
        try machine.complete(
            outputEstimate: counter?.completionTokens(text: text) ?? text.utf8.count / 4, into: &out)
        return out
    }

    private mutating func handle(_ events: [SSEDecoder.Event], into out: inout ByteBuffer) throws(GatewayError) {
        for event in events where event.data != "[DONE]" {
            guard let chunk = (try? JSONParser.parse(event.data.utf8))?.objectValue else { continue }
            try machine.handle(chunk: chunk, into: &out)
        }
    }
}
