import NIOCore

/// When a client connection closes on the gateway's side: after the idle timeout with nothing read
/// and no answer being written (a request still arriving counts as idle, so a client sending its
/// body slowly is cut off), and on graceful shutdown at once or, with a request in progress, once
/// its answer has ended. Pure: the connection's handler passes in the time and carries out the
/// action each transition returns.
struct ConnectionLifetime {
    /// What the handler does next.
    enum Action: Equatable {
        case none
        /// Arms the idle timer for this deadline, unless it is armed already.
        case arm(NIODeadline)
        /// Closes the connection (after flushing what was written).
        case close
    }

    private let timeout: TimeAmount
    /// When a request part was last read or an answer last ended.
    private var lastActive: NIODeadline
    /// Requests whose head has been read and whose answer has not ended.
    private var inProgress = 0
    /// Whether a request's head has been read and its end not yet.
    private var reading = false
    private var active = false
    private var closeWhenAnswered = false

    /// A connection that closes after `timeout` of idleness.
    init(timeout: TimeAmount) {
        self.timeout = timeout
        lastActive = .uptimeNanoseconds(0)
    }

    /// The connection is open: the idle clock starts.
    mutating func activated(now: NIODeadline) -> Action {
        active = true
        lastActive = now
        return .arm(now + timeout)
    }

    /// The connection has closed: a timer that fires later does nothing.
    mutating func deactivated() {
        active = false
    }

    /// A part of a request was read: a head starts a request, an end completes its reading.
    mutating func read(head: Bool, end: Bool, now: NIODeadline) {
        lastActive = now
        if head {
            inProgress += 1
            reading = true
        }
        if end { reading = false }
    }

    /// An answer's end was written.
    mutating func answered(now: NIODeadline) -> Action {
        inProgress = max(0, inProgress - 1)
        guard inProgress == 0 else { return .none }
        if closeWhenAnswered { return .close }
        guard active else { return .none }
        lastActive = now
        return .arm(now + timeout)
    }

    /// The idle timer fired.
    mutating func timerFired(now: NIODeadline) -> Action {
        guard active else { return .none }
        // A request read whole is being answered: the answer's own timeouts apply, not this one.
        if !reading, inProgress > 0 { return .none }
        let deadline = lastActive + timeout
        return now >= deadline ? .close : .arm(deadline)
    }

    /// Graceful shutdown began.
    mutating func quiesce() -> Action {
        guard inProgress > 0 else { return .close }
        closeWhenAnswered = true
        return .none
    }
}
