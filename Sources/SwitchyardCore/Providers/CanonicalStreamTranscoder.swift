import NIOCore

/// A front door's stream state machine over canonical Chat chunks: it turns them into the client
/// API's own events. Pure: the transcoder feeds it, the server writes what it returns.
public protocol ChatChunkMachine: Sendable {
    /// The stream's opening events, once, before anything else.
    mutating func start(into out: inout ByteBuffer)
    /// Handles one `chat.completion.chunk` object.
    mutating func handle(chunk: JSONObject, into out: inout ByteBuffer) throws(GatewayError)
    /// The stream's closing events, once the provider's stream ended cleanly; `outputEstimate`
    /// stands in for the output tokens when the provider reported none.
    mutating func complete(outputEstimate: Int, into out: inout ByteBuffer) throws(GatewayError)
    /// The events that end a stream broken by `error`, with what was open closed first.
    mutating func fail(_ error: GatewayError, into out: inout ByteBuffer)
    /// The provider's usage, once the stream reported it.
    var usage: TokenUsage? { get }
    /// The whole answer, once the stream is complete, for front doors that keep answers.
    var document: JSONValue? { get }
}

/// Converts a provider's stream for a front door other than Chat Completions: the provider
/// adapter's own transcoder makes the canonical Chat stream, whose chunks `Machine` turns into the
/// front door's events. Usage and the streamed text come from the provider's transcoder.
public struct CanonicalStreamTranscoder<Machine: ChatChunkMachine>: ChatStreamTranscoder {
    private var inner: any ChatStreamTranscoder
    private var sse = SSEDecoder()
    /// The front door's state machine.
    public private(set) var machine: Machine
    private let counter: ChatTokenCounter?

    /// A transcoder over `inner` (the routed adapter's, for the translated request); `counter`
    /// counts the output when the provider reports no usage.
    public init(inner: any ChatStreamTranscoder, machine: Machine, counter: ChatTokenCounter?) {
        self.inner = inner
        self.machine = machine
        self.counter = counter
    }

    public var usage: TokenUsage? { inner.usage ?? machine.usage }
    public var streamedText: String { inner.streamedText }
    public var document: JSONValue? { machine.document }

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
        try machine.complete(outputEstimate: counter?.completionTokens(text: text) ?? text.utf8.count / 4, into: &out)
        return out
    }

    public mutating func failure(_ error: GatewayError) -> ByteBuffer? {
        var out = ByteBuffer()
        machine.fail(error, into: &out)
        return out
    }

    private mutating func handle(_ events: [SSEDecoder.Event], into out: inout ByteBuffer) throws(GatewayError) {
        for event in events where event.data != "[DONE]" {
            guard let chunk = (try? JSONParser.parse(event.data.utf8))?.objectValue else { continue }
            try machine.handle(chunk: chunk, into: &out)
        }
    }
}
