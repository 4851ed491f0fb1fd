import NIOCore
import NIOHTTP1
import NIOSSL
import SwitchyardCore

/// One keep-alive HTTP/1.1 connection to a provider, carrying one exchange at a time. Its handler
/// runs on the channel's event loop: it writes the request, hands the response head to the
/// waiting task, and streams the body through a backpressured async sequence (the socket is read
/// only while the consumer keeps up); or, for an answer the caller reads whole, reads it all and
/// hands head and body over together, one hand-over instead of one per chunk. When the answer has
/// ended and the connection may be kept alive, it goes back to its pool.
final class UpstreamConnection: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<UpstreamExchangeHandler>

    /// Puts the connection back in its pool once an answer has ended and it can serve another.
    private let release: @Sendable (UpstreamConnection) -> Void

    init(
        channel: any Channel, handler: UpstreamExchangeHandler,
        release: @escaping @Sendable (UpstreamConnection) -> Void
    ) {
        self.channel = channel
        self.handler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
        self.release = release
    }

    /// The largest body written in the same buffer as the request head.
    static let copiedBody = 16 * 1024

    /// Whether the connection can carry another exchange.
    var isActive: Bool { channel.isActive }

    /// Sends one request; the future completes with the response head and the body to come, or,
    /// with `whole` (a byte limit), once the answer has been read whole.
    func execute(
        head: UpstreamRequestHead, body: ByteBuffer?, timeouts: UpstreamTimeouts, whole: Int?
    ) -> EventLoopFuture<UpstreamResponse> {
        let promise = channel.eventLoop.makePromise(of: UpstreamResponse.self)
        // A request's task runs on its connection's loop, so this is nearly always in place.
        if channel.eventLoop.inEventLoop {
            send(head: head, body: body, timeouts: timeouts, whole: whole, promise: promise)
        } else {
            channel.eventLoop.execute { [self] in
                send(head: head, body: body, timeouts: timeouts, whole: whole, promise: promise)
            }
        }
        return promise.futureResult
    }

    /// Starts the exchange and writes the request (on the event loop).
    private func send(
        head: UpstreamRequestHead, body: ByteBuffer?, timeouts: UpstreamTimeouts, whole: Int?,
        promise: EventLoopPromise<UpstreamResponse>
    ) {
        guard handler.value.start(promise: promise, head: head, timeouts: timeouts, whole: whole, owner: self) else {
            return
        }
        var bytes = channel.allocator.buffer(capacity: 512)
        bytes.writeRequestHead(head)
        // A small body goes out in the head's buffer; a large one is not copied.
        if let body, body.readableBytes <= Self.copiedBody {
            bytes.writeImmutableBuffer(body)
            channel.writeAndFlush(bytes, promise: nil)
        } else {
            channel.write(bytes, promise: nil)
            if let body { channel.write(body, promise: nil) }
            channel.flush()
        }
    }

    /// The answer ended and the connection, idle and clean, can serve another (called by its
    /// handler, on the event loop).
    func reusable() { release(self) }

    /// Closes the connection (the exchange on it, if any, fails).
    func close() { channel.close(promise: nil) }
}
