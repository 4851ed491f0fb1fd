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
    /// Whether the connection is closed (output first) once the answer is out.
    private let closing: Bool

    /// A writer for an answer with `head`; `streaming` flushes each chunk, `closing` ends the
    /// connection after the answer.
    init(channel: any Channel, head: HTTPResponse, streaming: Bool, closing: Bool) {
        self.channel = channel
        self.head = head
        self.streaming = streaming
        self.closing = closing
    }

    /// Writes `response` on `channel`; any failure closes the connection, since an answer cut short
    /// cannot be repaired on it.
    static func write(_ response: Response, to channel: any Channel, closing: Bool) async {
        var writer = ChannelResponseWriter(
            channel: channel, head: response.head, streaming: response.body.contentLength == nil, closing: closing)
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
        guard closing else { return try await send(.end(trailingHeaders)) }
        let channel = self.channel
        let written = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(HTTPResponsePart.end(trailingHeaders), promise: written)
        written.futureResult.whenComplete { _ in
            channel.close(mode: .output).whenFailure { _ in channel.close(promise: nil) }
        }
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
