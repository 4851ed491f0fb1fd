import NIOCore
import NIOHTTP1
import NIOSSL
import SwitchyardCore

/// The channel handler of one upstream connection: it feeds NIO's events to
/// `UpstreamExchangeStateMachine` and carries out the actions it returns. It holds what the
/// machine hands things to: the waiting task's promise, the streamed body's source, the timer.
final class UpstreamExchangeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The buffer of a streamed body: the consumer is told to stop at `high` parts waiting and
    /// asked for more again below `low`.
    static let bodyWatermarks = (low: 2, high: 8)

    private var machine = UpstreamExchangeStateMachine()
    private var context: ChannelHandlerContext?
    /// The task waiting for the head (or the whole answer) of the exchange in progress.
    private var promise: EventLoopPromise<UpstreamResponse>?
    /// Where a streamed body's parts go.
    private var source: StreamedBody?
    /// The connection of the exchange in progress, to put back in its pool after a clean end.
    private var owner: UpstreamConnection?
    /// The one pending deadline callback.
    private var timer: NIOScheduledCallback?
    /// The event loop's callback for `timer`: one per connection, so arming allocates nothing.
    private var expiry: Expiry?
    /// The connection's answer decoder, told each request head sent (nil where parts are written
    /// and read without NIO's codec, in tests).
    private let heads: HTTPResponseDecoder?

    /// A handler whose connection decodes answers with `heads`, or without a decoder.
    init(heads: HTTPResponseDecoder? = nil) {
        self.heads = heads
    }

    /// The time on the connection's event loop (virtual on a test's embedded loop).
    private var now: NIODeadline { context?.eventLoop.now ?? .now() }

    /// Whether the connection is idle with nothing held back (for tests, on the event loop).
    var isReusable: Bool { machine.isReusable }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        expiry = Expiry(handler: NIOLoopBound(self, eventLoop: context.eventLoop))
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        expiry = nil  // it holds this handler
    }

    /// Begins an exchange of a request with `head` (on the event loop), telling the answer decoder
    /// the head; the caller then writes the request.
    func start(
        promise: EventLoopPromise<UpstreamResponse>, head: UpstreamRequestHead, timeouts: UpstreamTimeouts, whole: Int?,
        owner: UpstreamConnection
    ) -> Bool {
        switch machine.start(whole: whole, timeouts: timeouts, now: now) {
        case .send(_, let deadline):
            self.promise = promise
            self.owner = owner
            heads?.write(data: .head(head.decoderHead))
            arm(deadline)
            return true
        case .refuse(let error):
            promise.fail(error)
            return false
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = self.now
        switch unwrapInboundIn(data) {
        case .head(let head): run(machine.head(head, now: now))
        case .body(let part): run(machine.body(part, now: now))
        case .end: run(machine.end())
        }
    }

    func read(context: ChannelHandlerContext) {
        if machine.read() { context.read() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        run(machine.failed(TransportError(.protocolViolation, "the connection closed before the answer ended")))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A failed TLS handshake means the provider cannot be reached, not that it broke an answer.
        let kind: TransportError.Kind = error is NIOSSLError || error is BoringSSLError ? .connect : .protocolViolation
        run(machine.failed(TransportError(kind, "\(error)")))
    }

    /// Carries out `action`: the timer first, then the channel (so a connection is back in its
    /// pool before its consumer sees the end, and its next request finds it), then the delivery.
    private func run(_ action: UpstreamExchangeStateMachine.Action) {
        switch action.timer {
        case .keep: break
        case .arm(let deadline): arm(deadline)
        case .cancel: disarm()
        }
        switch action.channel {
        case .none:
            break
        case .read:
            context?.read()
        case .pool(let read):
            if read { context?.read() }
            let owner = self.owner
            self.owner = nil
            owner?.reusable()
        case .close:
            owner = nil
            context?.close(promise: nil)
        }
        guard let delivery = action.delivery else { return }
        deliver(delivery)
    }

    private func deliver(_ delivery: UpstreamExchangeStateMachine.Delivery) {
        switch delivery {
        case .streamHead(let head, let exchange):
            guard let context else { return }
            let body = StreamedBody(
                low: Self.bodyWatermarks.low, high: Self.bodyWatermarks.high,
                delegate: BodyDelegate(handler: NIOLoopBound(self, eventLoop: context.eventLoop), exchange: exchange))
            source = body
            takePromise()?.succeed(UpstreamResponse(head, body: UpstreamBody(body)))
        case .bodyPart(let part):
            if source?.yield(part) == false { run(machine.consumerFull()) }
        case .bodyEnd:
            takeSource()?.finish()
        case .whole(let head, let body):
            takePromise()?.succeed(UpstreamResponse(head, body: WholeBody(result: body)))
        case .headFailed(let error):
            takePromise()?.fail(error)
        case .bodyFailed(let error):
            takeSource()?.finish(error)
        }
    }

    private func takePromise() -> EventLoopPromise<UpstreamResponse>? {
        defer { promise = nil }
        return promise
    }

    private func takeSource() -> StreamedBody? {
        defer { source = nil }
        return source
    }

    /// Replaces the pending callback with one at `deadline`.
    private func arm(_ deadline: NIODeadline) {
        disarm()
        guard let context, let expiry else { return }
        timer = try? context.eventLoop.scheduleCallback(at: deadline, handler: expiry)
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }

    /// The body consumer of exchange `id` wants more.
    func produceMore(exchange id: UInt64) {
        run(machine.consumerWantsMore(exchange: id, now: now))
    }

    /// The body consumer of exchange `id` is gone (finished, cancelled or dropped the sequence).
    func consumerTerminated(exchange id: UInt64) {
        run(machine.consumerGone(exchange: id))
    }

    /// Calls the handler back when its timer is due.
    final class Expiry: NIOScheduledCallbackHandler, Sendable {
        let handler: NIOLoopBound<UpstreamExchangeHandler>

        init(handler: NIOLoopBound<UpstreamExchangeHandler>) { self.handler = handler }

        func handleScheduledCallback(eventLoop: some EventLoop) {
            let handler = self.handler.value
            handler.run(handler.machine.timerFired(now: eventLoop.now))
        }
    }

    /// Tells the handler, on its event loop, what the body consumer does.
    struct BodyDelegate: Sendable {
        let handler: NIOLoopBound<UpstreamExchangeHandler>
        let exchange: UInt64

        func produceMore() {
            let (handler, exchange) = (self.handler, self.exchange)
            handler.eventLoop.execute { handler.value.produceMore(exchange: exchange) }
        }

        func didTerminate() {
            let (handler, exchange) = (self.handler, self.exchange)
            handler.eventLoop.execute { handler.value.consumerTerminated(exchange: exchange) }
        }
    }
}
