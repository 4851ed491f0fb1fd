import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTPTypes

/// Writes one answer straight to the client's channel, from the request's task on that channel's
/// event loop: a fixed answer goes out as head, body and end in one flush; a streamed answer
/// flushes each chunk. A stream's head is written at once, unflushed: it leaves with the first
/// chunk, or earlier on a flush of the channel (`StreamRelay` asks for one when it starts waiting
/// for the provider). The task only waits when the client reads slower than the gateway writes.
struct ChannelResponseWriter: ResponseBodyWriter {
    /// The client connection.
    let channel: any Channel
    /// The head, until it is written with the first chunk or the end.
    private var head: HTTPResponse?
    /// Whether each chunk is flushed as it comes (answers without a known length).
    private let streaming: Bool

    /// A writer for an answer with `head`; `streaming` flushes each chunk.
    init(channel: any Channel, head: HTTPResponse, streaming: Bool) {
        self.channel = channel
        self.head = head
        self.streaming = streaming
    }

    /// Writes `response` on `channel`; any failure closes the connection, since an answer cut short
    /// cannot be repaired on it. Whether the connection stays open afterwards is `HTTP1ServerCodec`'s
    /// call.
    static func write(_ response: Response, to channel: any Channel) async {
        var writer = ChannelResponseWriter(
            channel: channel, head: response.head, streaming: response.body.contentLength == nil)
        if writer.streaming { writer.writeHead() }
        do {
            try await response.body.write(writer)
        } catch {
            channel.close(promise: nil)
        }
    }

    mutating func write(_ buffer: ByteBuffer) async throws {
        guard channel.isActive else { throw ChannelError.ioOnClosedChannel }
        writeHead()
        guard streaming else {
            channel.write(HTTPResponsePart.body(buffer), promise: nil)
            return
        }
        try await send(.body(buffer))
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        writeHead()
        try await send(.end(trailingHeaders))
    }

    /// Writes and flushes `part`; waits for it to leave only while the client is not reading.
    private func send(_ part: HTTPResponsePart) async throws {
        guard !channel.isWritable else { return channel.writeAndFlush(part, promise: nil) }
        let written = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(part, promise: written)
        try await written.futureResult.get()
    }

    private mutating func writeHead() {
        guard let head else { return }
        channel.write(HTTPResponsePart.head(head), promise: nil)
        self.head = nil
    }
}
