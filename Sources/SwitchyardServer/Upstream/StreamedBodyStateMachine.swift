import NIOCore

/// The buffer of a streamed answer's body between the upstream connection, which yields its
/// parts, and the task that reads them, with no I/O: each event (a part, the end, the reader
/// asking for the next part, the reader leaving) returns what `StreamedBody` then does. Parts wait
/// in order; the connection is told to stop reading at `high` parts waiting and to read again
/// once the reader has taken them below `low`. The reader is told it is done exactly once.
struct StreamedBodyStateMachine {
    /// What the reader gets next.
    enum Delivery: Equatable {
        case part(ByteBuffer)
        /// The body ended cleanly.
        case end
        case failure(TransportError)
        /// The reader's task was cancelled: the body is abandoned.
        case cancelled
    }

    /// What a yielded part leads to.
    enum YieldAction: Equatable {
        /// Hand the part to the reader waiting for it.
        case resume(ByteBuffer)
        /// The part waits; whether the connection may go on reading.
        case buffered(keepReading: Bool)
        /// Nobody will read it (the reader left, or the body ended).
        case dropped
    }

    /// What the reader's request for the next part leads to.
    enum NextAction: Equatable {
        /// Return `delivery`; `readMore` tells the connection to read again; `done` tells it the
        /// reader will ask no more.
        case deliver(Delivery, readMore: Bool, done: Bool)
        /// Nothing yet: the reader waits for a yield or the end.
        case suspend
    }

    /// The parts that the connection may have waiting before it is told to stop reading, and the
    /// count below which it is told to read again.
    let low: Int
    let high: Int
    private var parts = CircularBuffer<ByteBuffer>(initialCapacity: 4)
    /// How the body ended, once it has, until the reader takes it.
    private var ending: Delivery?
    /// The reader is suspended, waiting (only when no part waits).
    private var readerWaiting = false
    /// The connection was told to stop reading and has not been told to read again.
    private var stopped = false
    /// The reader is done: it took the end, was cancelled, or left. Nothing is kept for it.
    private(set) var readerDone = false

    /// A buffer that stops the connection at `high` parts waiting and restarts it below `low`.
    init(low: Int, high: Int) {
        precondition(0 < low && low <= high, "watermarks: 0 < low <= high")
        self.low = low
        self.high = high
    }

    /// The connection yields `part`.
    mutating func yield(_ part: ByteBuffer) -> YieldAction {
        guard !readerDone, ending == nil else { return .dropped }
        if readerWaiting {
            readerWaiting = false
            return .resume(part)
        }
        parts.append(part)
        if parts.count >= high { stopped = true }
        return .buffered(keepReading: !stopped)
    }

    /// The body ended (`failure` nil: cleanly). Returns what to hand the reader when it waits;
    /// otherwise the end is kept until the reader has taken the parts before it.
    mutating func finish(_ failure: TransportError?) -> Delivery? {
        guard !readerDone, ending == nil else { return nil }
        let delivery = failure.map(Delivery.failure) ?? .end
        guard readerWaiting else {
            ending = delivery
            return nil
        }
        readerWaiting = false
        readerDone = true
        return delivery
    }

    /// The reader asks for the next part; `cancelled` is whether its task is cancelled. With
    /// nothing to deliver it waits when `wait` is true; otherwise nothing changes (the reader then
    /// asks again once it can be resumed).
    mutating func next(cancelled: Bool, wait: Bool) -> NextAction {
        if readerDone { return .deliver(.end, readMore: false, done: false) }
        if cancelled {
            abandon()
            return .deliver(.cancelled, readMore: false, done: true)
        }
        if let part = parts.popFirst() {
            let readMore = stopped && parts.count < low
            if readMore { stopped = false }
            return .deliver(.part(part), readMore: readMore, done: false)
        }
        if let ending {
            self.ending = nil
            readerDone = true
            return .deliver(ending, readMore: false, done: true)
        }
        readerWaiting = wait
        return .suspend
    }

    /// The reader's task was cancelled, or the reader was dropped. Returns whether the connection
    /// must be told (the reader was not done already) and whether a suspended reader is to be
    /// resumed with `.cancelled`.
    mutating func readerLeft() -> (tell: Bool, resume: Bool) {
        guard !readerDone else { return (false, false) }
        let waiting = readerWaiting
        abandon()
        return (true, waiting)
    }

    private mutating func abandon() {
        readerDone = true
        readerWaiting = false
        ending = nil
        parts.removeAll()
    }
}
