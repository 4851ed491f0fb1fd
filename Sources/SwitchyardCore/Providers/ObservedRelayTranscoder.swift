import NIOCore

/// What a stream relayed byte for byte tells about itself, read event by event: its usage, its
/// text, and whether it ended as it should.
public protocol StreamObserver: Sendable {
    /// Reads one event.
    mutating func read(_ event: SSEDecoder.Event)
    /// The usage the stream reported.
    var usage: TokenUsage? { get }
    /// The answer text so far.
    var streamedText: String { get }
    /// Whether the stream has ended as it should (or told the client of its own failure).
    var ended: Bool { get }
    /// What a client is told of a stream that was cut short.
    static var cutShort: String { get }
}

/// Relays a front door's native stream (an Anthropic or Responses upstream's) unchanged while
/// `Observer` learns its usage; a stream cut before its end fails, so the client is told.
public struct ObservedRelayTranscoder<Observer: StreamObserver>: ChatStreamTranscoder {
    private var sse = SSEDecoder()
    private var observer: Observer

    /// A relay observed by `observer`.
    public init(_ observer: Observer) {
        self.observer = observer
    }

    public var usage: TokenUsage? { observer.usage }
    public var streamedText: String { observer.streamedText }
    /// Whether the stream's last event (or its own error event) has been passed on.
    public var delivered: Bool { observer.ended }

    public mutating func transcode(_ chunk: ByteBuffer) throws(GatewayError) -> ByteBuffer? {
        for event in sse.feed(chunk) { observer.read(event) }
        return chunk
    }

    public mutating func finish() throws(GatewayError) -> ByteBuffer? {
        for event in sse.finish() { observer.read(event) }
        guard observer.ended else { throw .badGateway(Observer.cutShort) }
        return nil
    }
}
