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

    /// Whether the connection can carry another exchange.
    var isActive: Bool { channel.isActive }

    /// Sends one request; the future completes with the response head and the body to come, or,
    /// with `whole` (a byte limit), once the answer has been read whole.
    func execute(
        head: HTTPRequestHead, body: ByteBuffer?, timeouts: UpstreamTimeouts, whole: Int?
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
        head: HTTPRequestHead, body: ByteBuffer?, timeouts: UpstreamTimeouts, whole: Int?,
        promise: EventLoopPromise<UpstreamResponse>
    ) {
        handler.value.start(promise: promise, timeouts: timeouts, whole: whole, owner: self)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }

    /// The answer ended and the connection can serve another (called by its handler).
    fileprivate func reusable() { release(self) }

    /// Closes the connection (the exchange on it, if any, fails).
    func close() { channel.close(promise: nil) }
}

/// The per-connection state machine between NIO and the waiting task.
final class UpstreamExchangeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    typealias Body = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, BodyDelegate
    >

    /// Where the current exchange stands.
    enum State {
        case idle
        /// Sent; `whole` is the byte limit when the answer is to be read whole.
        case awaitingHead(EventLoopPromise<UpstreamResponse>, whole: Int?)
        case streaming(Body.Source, keepAlive: Bool)
        /// Reading an answer whole, to hand over at its end.
        case collecting(EventLoopPromise<UpstreamResponse>, WholeAnswer)
        /// Closed; why, when it failed before an exchange could see it (a refused TLS handshake).
        case closed(TransportError)
    }

    /// An answer read whole so far.
    struct WholeAnswer {
        var head: HTTPResponseHead
        var body = ByteBuffer()
        var limit: Int

        /// The answer as handed over: its head, and its body or why reading it failed.
        func response(_ body: Result<ByteBuffer, TransportError>) -> UpstreamResponse {
            UpstreamResponse(head, body: WholeBody(result: body))
        }
    }

    private var state = State.idle
    private var context: ChannelHandlerContext?
    /// The one pending expiry: the response head, then each body gap, never past the total.
    private var timer: NIOScheduledCallback?
    /// When `timer` fires.
    private var timerDeadline = NIODeadline.distantFuture
    /// What `timer` is armed for, named in its error (nil: the idle gap).
    private var timerReason: String?
    /// The event loop's callback for `timer`: one per connection, so arming allocates nothing.
    private var expiry: Expiry?
    private var totalDeadline = NIODeadline.distantFuture
    private var idle = TimeAmount.seconds(600)
    /// When the upstream last sent body data (nil before the head).
    private var lastData: NIODeadline?
    /// The connection of the exchange in progress, to put back in its pool after a clean end.
    private var owner: UpstreamConnection?
    /// Whether the consumer wants more body; while false, reads are held back.
    private var demand = true
    private var readHeld = false
    /// Whether the consumer of the body went away before it ended.
    private var consumerGone = false
    /// Numbers exchanges, so a late signal from an earlier body's consumer is ignored.
    private var exchange: UInt64 = 0

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        expiry = Expiry(handler: NIOLoopBound(self, eventLoop: context.eventLoop))
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        expiry = nil  // it holds this handler
    }

    /// Begins an exchange (on the event loop).
    func start(
        promise: EventLoopPromise<UpstreamResponse>, timeouts: UpstreamTimeouts, whole: Int?,
        owner: UpstreamConnection
    ) {
        guard case .idle = state, context != nil else {
            if case .closed(let error) = state, error.kind == .connect {
                promise.fail(error)
            } else {
                promise.fail(TransportError(.protocolViolation, "the connection closed before the request was sent"))
            }
            return
        }
        state = .awaitingHead(promise, whole: whole)
        exchange &+= 1
        lastData = nil
        demand = true
        consumerGone = false
        self.owner = owner
        let now = NIODeadline.now()
        totalDeadline = now + .interval(timeouts.totalSeconds)
        idle = .interval(timeouts.idleSeconds)
        arm(min(now + .interval(timeouts.firstByteSeconds), totalDeadline), "no response head")
    }

    /// Replaces the pending expiry with one at `deadline`; `what` names it in the error (nil: the
    /// idle gap, whose message is only formatted when it expires). An idle
    /// expiry that finds data arrived since re-arms from the last arrival instead of failing, so
    /// a stream costs one timer per idle period, not one per chunk.
    private func arm(_ deadline: NIODeadline, _ what: String?) {
        disarm()
        guard let context, let expiry else { return }
        timerDeadline = deadline
        timerReason = what
        timer = try? context.eventLoop.scheduleCallback(at: deadline, handler: expiry)
    }

    /// Cancels the pending expiry, if any.
    private func disarm() {
        timer?.cancel()
        timer = nil
    }

    /// The event loop calls back for `timer`. A callback already due when it was cancelled may
    /// still come; it finds a later deadline armed (or none) and does nothing.
    fileprivate func timerDue() {
        guard timer != nil, timerDeadline <= .now() else { return }
        timer = nil
        expire(timerReason)
    }

    private func expire(_ what: String?) {
        var what = what
        if let lastData, isReadingBody {
            // Whatever the timer was armed for (possibly the head, see `headArrived`), it now
            // measures the gap since the last data.
            what = nil
            let next = min(lastData + idle, totalDeadline)
            if next > .now() {
                arm(next, nil)
                return
            }
        }
        let reason =
            totalDeadline <= .now()
            ? "the total time limit passed" : what ?? "no data for \(Double(idle.nanoseconds) / 1e9)s"
        fail(TransportError(.timeout, reason))
    }

    /// The head arrived: the idle gap counts from now. The head's timer stays when it fires no
    /// later than the gap would end (it then re-arms for the gap, see `expire`), which saves
    /// scheduling a second timer for every answer.
    private func headArrived() {
        let now = NIODeadline.now()
        lastData = now
        let gapEnd = min(now + idle, totalDeadline)
        if timer != nil, timerDeadline <= gapEnd { return }
        arm(gapEnd, nil)
    }

    /// Notes that the upstream sent something; the idle timer counts from here. While the consumer
    /// is not reading, no timer runs (a gap caused by a slow client is not the upstream's).
    private func armIdle() {
        lastData = .now()
        if timer == nil {
            arm(min(.now() + idle, totalDeadline), nil)
        }
    }

    /// Whether a body is being read (streamed or whole).
    private var isReadingBody: Bool {
        switch state {
        case .streaming, .collecting: true
        case .idle, .awaitingHead, .closed: false
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .awaitingHead(let promise, let whole?)):
            state = .collecting(promise, WholeAnswer(head: head, limit: whole))
            headArrived()
        case (.body(let chunk), .collecting(let promise, var answer)):
            guard answer.body.readableBytes + chunk.readableBytes <= answer.limit else {
                fail(TransportError(.protocolViolation, "the upstream answer exceeds \(answer.limit) bytes"))
                return
            }
            state = .idle  // the buffer below is then uniquely referenced: appended to, not copied
            if answer.body.readableBytes == 0 {
                answer.body = chunk
            } else {
                answer.body.writeImmutableBuffer(chunk)
            }
            state = .collecting(promise, answer)
            armIdle()
        case (.end, .collecting(let promise, let answer)):
            disarm()
            state = .idle
            if answer.head.isKeepAlive, let owner {
                self.owner = nil
                owner.reusable()
            } else {
                context.close(promise: nil)
            }
            promise.succeed(answer.response(.success(answer.body)))
        case (.head(let head), .awaitingHead(let promise, nil)):
            let body = Body.makeSequence(
                backPressureStrategy: .init(lowWatermark: 2, highWatermark: 8), finishOnDeinit: false,
                delegate: BodyDelegate(handler: NIOLoopBound(self, eventLoop: context.eventLoop), exchange: exchange))
            state = .streaming(body.source, keepAlive: head.isKeepAlive)
            headArrived()
            promise.succeed(UpstreamResponse(head, body: UpstreamBody(producer: body.sequence)))
        case (.body(let chunk), .streaming(let source, _)):
            if source.yield(chunk) == .stopProducing {
                demand = false
                disarm()
            } else {
                armIdle()
            }
        case (.end, .streaming(let source, let keepAlive)):
            disarm()
            state = .idle
            // Pooled before the consumer sees the end, so its next request finds this connection;
            // a new exchange can only start on a later event-loop tick, after `finish()`.
            if keepAlive, !consumerGone, let owner {
                self.owner = nil
                owner.reusable()
            } else {
                context.close(promise: nil)
            }
            source.finish()
        default:
            fail(TransportError(.protocolViolation, "the upstream sent an unexpected response part"))
        }
    }

    func read(context: ChannelHandlerContext) {
        if demand {
            context.read()
        } else {
            readHeld = true
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(TransportError(.protocolViolation, "the connection closed before the answer ended"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A failed TLS handshake means the provider cannot be reached, not that it broke an answer.
        let kind: TransportError.Kind = error is NIOSSLError || error is BoringSSLError ? .connect : .protocolViolation
        fail(TransportError(kind, "\(error)"))
    }

    /// The body consumer of exchange `id` wants more.
    func produceMore(exchange id: UInt64) {
        guard id == exchange else { return }
        demand = true
        if case .streaming = state { armIdle() }
        if readHeld, let context {
            readHeld = false
            context.read()
        }
    }

    /// The body consumer of exchange `id` is gone (finished, cancelled or dropped the sequence).
    func consumerTerminated(exchange id: UInt64) {
        guard id == exchange, case .streaming = state else { return }
        consumerGone = true
        context?.close(promise: nil)
    }

    /// Ends the exchange with `error` and closes the connection; later calls do nothing.
    private func fail(_ error: TransportError) {
        disarm()
        owner = nil
        switch state {
        case .awaitingHead(let promise, _): promise.fail(error)
        case .streaming(let source, _): source.finish(error)
        // The head had arrived: as for a streamed body, the failure shows when the body is read.
        case .collecting(let promise, let answer): promise.succeed(answer.response(.failure(error)))
        case .idle: break
        case .closed: return
        }
        state = .closed(error)
        context?.close(promise: nil)
    }

    /// Calls the handler back when its timer is due.
    final class Expiry: NIOScheduledCallbackHandler, Sendable {
        let handler: NIOLoopBound<UpstreamExchangeHandler>

        init(handler: NIOLoopBound<UpstreamExchangeHandler>) { self.handler = handler }

        func handleScheduledCallback(eventLoop: some EventLoop) { handler.value.timerDue() }
    }

    /// Tells the handler, on its event loop, what the body consumer does.
    struct BodyDelegate: NIOAsyncSequenceProducerDelegate {
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

/// The response body as the pipeline reads it: chunks as they arrive; an iteration cancelled by
/// its task ends in `CancellationError`, never in a silent, clean end.
struct UpstreamBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let producer: UpstreamExchangeHandler.Body

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: UpstreamExchangeHandler.Body.AsyncIterator

        mutating func next() async throws -> ByteBuffer? {
            let chunk = try await base.next()
            if chunk == nil, Task.isCancelled { throw CancellationError() }
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: producer.makeAsyncIterator()) }
}

extension UpstreamResponse {
    /// The answer with `head`'s status and headers and `body`.
    init(_ head: HTTPResponseHead, body: some AsyncSequence<ByteBuffer, any Error> & Sendable) {
        self.init(
            status: Int(head.status.code), headers: head.headers.map { (name: $0.name, value: $0.value) }, body: body)
    }
}

extension TimeAmount {
    /// A duration from fractional seconds, as configuration gives them.
    static func interval(_ seconds: Double) -> TimeAmount { .nanoseconds(Int64(seconds * 1e9)) }
}

/// The body of an answer read whole before it was handed over: the one buffer, or the failure
/// that ended the reading (surfacing, as for a streamed body, when the body is read).
struct WholeBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let result: Result<ByteBuffer, TransportError>

    struct AsyncIterator: AsyncIteratorProtocol {
        var result: Result<ByteBuffer, TransportError>?

        mutating func next() async throws -> ByteBuffer? {
            guard let result else { return nil }
            self.result = nil
            return try result.get()
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(result: result) }
}
