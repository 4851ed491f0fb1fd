import NIOCore
import NIOHTTP1
import SwitchyardCore

/// The life of one keep-alive upstream connection, exchange after exchange, with no I/O: each
/// event (the request sent, a response part, NIO asking to read, the body consumer's demand, a
/// deadline) returns the action the handler then carries out. It owns the read and demand
/// bookkeeping, so a connection can only go back to its pool idle, with no read held back, and
/// answer the next exchange at once.
struct UpstreamExchangeStateMachine {
    /// Where the connection stands.
    enum State {
        /// No exchange: pooled, or about to be. Reads flow, so a close by the provider is seen.
        case idle
        /// The request is sent; `whole` is the byte limit when the answer is to be read whole.
        case awaitingHead(whole: Int?)
        /// The body streams to a consumer; reads are held back while it has no demand.
        case streaming(keepAlive: Bool, demand: Bool)
        /// The answer is read whole, to be handed over at its end.
        case collecting(WholeAnswer)
        /// Closed; `error` is why, for an exchange that tries to start on it.
        case closed(TransportError)
        /// Only while a transition changes `collecting` in place.
        case modifying
    }

    /// An answer read whole so far.
    struct WholeAnswer {
        var head: HTTPResponseHead
        var body = ByteBuffer()
        var limit: Int
    }

    /// What the handler hands to the waiting task or the body's consumer.
    enum Delivery: Equatable {
        /// The head of a streamed answer; its body sequence belongs to exchange `exchange`.
        case streamHead(HTTPResponseHead, exchange: UInt64)
        /// A piece of the streamed body.
        case bodyPart(ByteBuffer)
        /// The streamed body ended.
        case bodyEnd
        /// An answer read whole, or its head and why its body could not be read.
        case whole(HTTPResponseHead, Result<ByteBuffer, TransportError>)
        /// The exchange failed before its head arrived.
        case headFailed(TransportError)
        /// The streamed body failed.
        case bodyFailed(TransportError)
    }

    /// What happens to the channel.
    enum ChannelAction: Equatable {
        case none
        /// Pass NIO's read request on (one held back, or one just made).
        case read
        /// The exchange ended cleanly: put the connection back in its pool; `read` releases the
        /// read held back while the consumer was full.
        case pool(read: Bool)
        case close
    }

    /// What happens to the one deadline timer.
    enum TimerAction: Equatable {
        case keep
        case arm(NIODeadline)
        case cancel
    }

    /// The effects of one event, carried out as timer, channel, then delivery.
    struct Action: Equatable {
        var timer = TimerAction.keep
        var channel = ChannelAction.none
        var delivery: Delivery?

        static let none = Action()
    }

    /// The outcome of starting an exchange.
    enum StartAction: Equatable {
        /// Write the request and arm the timer for the head.
        case send(exchange: UInt64, timer: NIODeadline)
        /// The connection cannot carry it.
        case refuse(TransportError)
    }

    private(set) var state = State.idle
    /// NIO asked to read while the consumer had no demand.
    private(set) var readHeld = false
    /// Numbers exchanges, so that a late signal from an earlier body's consumer is ignored.
    private(set) var exchange: UInt64 = 0
    /// The armed deadline and what it is for (nil: the gap between pieces of data).
    private var timer: (deadline: NIODeadline, reason: String?)?
    private var totalDeadline = NIODeadline.distantFuture
    private var idle = TimeAmount.seconds(600)
    /// When the upstream last sent data (nil before the head).
    private var lastData: NIODeadline?

    /// Whether the connection may carry another exchange: idle, nothing held back.
    var isReusable: Bool {
        if case .idle = state { return !readHeld }
        return false
    }

    // MARK: Events

    /// The task sends a request on this connection.
    mutating func start(whole: Int?, timeouts: UpstreamTimeouts, now: NIODeadline) -> StartAction {
        switch state {
        case .idle:
            break
        case .closed(let error) where error.kind == .connect:
            return .refuse(error)
        case .closed, .awaitingHead, .streaming, .collecting, .modifying:
            return .refuse(TransportError(.protocolViolation, "the connection closed before the request was sent"))
        }
        assert(!readHeld, "an idle connection holds no read")
        state = .awaitingHead(whole: whole)
        exchange &+= 1
        lastData = nil
        totalDeadline = now + .interval(timeouts.totalSeconds)
        idle = .interval(timeouts.idleSeconds)
        let deadline = min(now + .interval(timeouts.firstByteSeconds), totalDeadline)
        timer = (deadline, "no response head")
        return .send(exchange: exchange, timer: deadline)
    }

    /// NIO asks to read from the socket: passed on (true) unless the consumer has no demand.
    mutating func read() -> Bool {
        if case .streaming(_, demand: false) = state {
            readHeld = true
            return false
        }
        return true
    }

    /// The response head arrived.
    mutating func head(_ head: HTTPResponseHead, now: NIODeadline) -> Action {
        guard case .awaitingHead(let whole) = state else { return unexpectedPart() }
        var action = headArrived(now: now)
        if let whole {
            state = .collecting(WholeAnswer(head: head, limit: whole))
        } else {
            state = .streaming(keepAlive: head.isKeepAlive, demand: true)
            action.delivery = .streamHead(head, exchange: exchange)
        }
        return action
    }

    /// A piece of the body arrived.
    mutating func body(_ part: ByteBuffer, now: NIODeadline) -> Action {
        switch state {
        case .streaming(_, demand: true):
            var action = dataArrived(now: now)
            action.delivery = .bodyPart(part)
            return action
        case .collecting(var answer):
            guard answer.body.readableBytes + part.readableBytes <= answer.limit else {
                return fail(TransportError(.protocolViolation, "the upstream answer exceeds \(answer.limit) bytes"))
            }
            state = .modifying  // `answer.body` is then uniquely referenced: appended to, not copied
            if answer.body.readableBytes == 0 {
                answer.body = part
            } else {
                answer.body.writeImmutableBuffer(part)
            }
            state = .collecting(answer)
            return dataArrived(now: now)
        case .streaming(_, demand: false):
            // NIO delivers every part of a read it has made, demand or not: the part goes to the
            // sequence's buffer, which the consumer drains before it asks for more.
            return Action(delivery: .bodyPart(part))
        case .idle, .awaitingHead, .closed, .modifying:
            return unexpectedPart()
        }
    }

    /// The body ended: the exchange is over. The connection goes back to its pool when the
    /// provider keeps it alive, with the read held back for a full consumer released first.
    mutating func end() -> Action {
        let keepAlive: Bool
        let delivery: Delivery
        switch state {
        case .streaming(let alive, _):
            keepAlive = alive
            delivery = .bodyEnd
        case .collecting(let answer):
            keepAlive = answer.head.isKeepAlive
            delivery = .whole(answer.head, .success(answer.body))
        case .idle, .awaitingHead, .closed, .modifying:
            return unexpectedPart()
        }
        timer = nil
        let release = readHeld
        readHeld = false
        lastData = nil
        state = .idle
        return Action(timer: .cancel, channel: keepAlive ? .pool(read: release) : .close, delivery: delivery)
    }

    /// The consumer of the streamed body has no room for more (its buffer reached the high
    /// watermark). No deadline runs meanwhile: a gap a slow client causes is not the provider's.
    mutating func consumerFull() -> Action {
        guard case .streaming(let keepAlive, demand: true) = state else { return .none }
        state = .streaming(keepAlive: keepAlive, demand: false)
        timer = nil
        return Action(timer: .cancel)
    }

    /// The consumer of exchange `id`'s body wants more.
    mutating func consumerWantsMore(exchange id: UInt64, now: NIODeadline) -> Action {
        guard id == exchange, case .streaming(let keepAlive, demand: false) = state else { return .none }
        state = .streaming(keepAlive: keepAlive, demand: true)
        var action = dataArrived(now: now)
        if readHeld {
            readHeld = false
            action.channel = .read
        }
        return action
    }

    /// The consumer of exchange `id`'s body went away before it ended: the rest of the answer
    /// would have to be read and dropped, so the connection closes instead.
    mutating func consumerGone(exchange id: UInt64) -> Action {
        guard id == exchange, case .streaming = state else { return .none }
        return fail(TransportError(.cancelled, "the consumer went away"))
    }

    /// The timer fired at `now`. A callback already due when it was cancelled may still come; it
    /// finds a later deadline armed, or none, and does nothing.
    mutating func timerFired(now: NIODeadline) -> Action {
        guard let armed = timer, armed.deadline <= now else { return .none }
        timer = nil
        var reason = armed.reason
        if let lastData, isReadingBody {
            // Whatever the timer was armed for (possibly the head, see `headArrived`), it now
            // measures the gap since the last data.
            reason = nil
            let next = min(lastData + idle, totalDeadline)
            if next > now {
                timer = (next, nil)
                return Action(timer: .arm(next))
            }
        }
        let message =
            totalDeadline <= now
            ? "the total time limit passed" : reason ?? "no data for \(Double(idle.nanoseconds) / 1e9)s"
        return fail(TransportError(.timeout, message))
    }

    /// The connection failed or closed: the exchange in progress, if any, fails with `error`.
    mutating func failed(_ error: TransportError) -> Action {
        fail(error)
    }

    // MARK: Helpers

    /// Ends the exchange in progress with `error` and closes the connection; the first failure wins.
    private mutating func fail(_ error: TransportError) -> Action {
        let delivery: Delivery?
        switch state {
        case .awaitingHead: delivery = .headFailed(error)
        case .streaming: delivery = .bodyFailed(error)
        // The head had arrived: as for a streamed body, the failure shows when the body is read.
        case .collecting(let answer): delivery = .whole(answer.head, .failure(error))
        case .idle, .modifying: delivery = nil
        case .closed: return .none
        }
        state = .closed(error)
        timer = nil
        readHeld = false
        return Action(timer: .cancel, channel: .close, delivery: delivery)
    }

    private mutating func unexpectedPart() -> Action {
        fail(TransportError(.protocolViolation, "the upstream sent an unexpected response part"))
    }

    /// The head arrived: the gap between data counts from now. A head timer that fires no later
    /// than the gap would end stays (it then re-arms for the gap, see `timerFired`), which saves
    /// scheduling a second timer for every answer.
    private mutating func headArrived(now: NIODeadline) -> Action {
        lastData = now
        let gapEnd = min(now + idle, totalDeadline)
        if let armed = timer, armed.deadline <= gapEnd { return .none }
        timer = (gapEnd, nil)
        return Action(timer: .arm(gapEnd))
    }

    /// Data arrived (or the consumer is ready again): the gap counts from now; a timer already
    /// armed re-arms itself from the last data when it fires.
    private mutating func dataArrived(now: NIODeadline) -> Action {
        lastData = now
        guard timer == nil else { return .none }
        let deadline = min(now + idle, totalDeadline)
        timer = (deadline, nil)
        return Action(timer: .arm(deadline))
    }

    /// Whether a body is being read (streamed or whole).
    private var isReadingBody: Bool {
        switch state {
        case .streaming, .collecting: true
        case .idle, .awaitingHead, .closed, .modifying: false
        }
    }
}
