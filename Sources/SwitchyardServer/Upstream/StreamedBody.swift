import NIOCore
import Synchronization

/// A streamed answer's body: the upstream connection's handler yields parts and the end on its
/// event loop, and the relaying task reads them through `UpstreamBody`. It carries out what
/// `StreamedBodyStateMachine` decides, under one lock, and tells the connection (through
/// `UpstreamExchangeHandler.BodyDelegate`) when to read again and when the reader is done.
final class StreamedBody: Sendable {
    private typealias Waiter = UnsafeContinuation<StreamedBodyStateMachine.Delivery, Never>

    private struct State {
        var machine: StreamedBodyStateMachine
        /// The suspended reader.
        var waiting: Waiter?

        /// The suspended reader, no longer stored.
        mutating func takeWaiting() -> Waiter? {
            defer { waiting = nil }
            return waiting
        }
    }

    private let state: Mutex<State>
    private let delegate: UpstreamExchangeHandler.BodyDelegate

    /// A body whose connection stops reading at `high` parts waiting and reads again below `low`.
    init(low: Int, high: Int, delegate: UpstreamExchangeHandler.BodyDelegate) {
        state = Mutex(State(machine: StreamedBodyStateMachine(low: low, high: high)))
        self.delegate = delegate
    }

    /// Hands over `part`; returns false when the connection should stop reading.
    func yield(_ part: ByteBuffer) -> Bool {
        let (action, waiting) = state.withLock { state -> (StreamedBodyStateMachine.YieldAction, Waiter?) in
            let action = state.machine.yield(part)
            guard case .resume = action else { return (action, nil) }
            return (action, state.takeWaiting())
        }
        switch action {
        case .resume(let part):
            waiting?.resume(returning: .part(part))
            return true
        case .buffered(let keepReading):
            return keepReading
        case .dropped:
            return true
        }
    }

    /// Ends the body: cleanly, or with `failure`.
    func finish(_ failure: TransportError? = nil) {
        let handoff = state.withLock { state -> (StreamedBodyStateMachine.Delivery, Waiter?)? in
            guard let delivery = state.machine.finish(failure) else { return nil }
            return (delivery, state.takeWaiting())
        }
        guard let (delivery, waiting) = handoff else { return }
        waiting?.resume(returning: delivery)
        delegate.didTerminate()
    }

    /// The next part, nil at the end; throws the body's failure, or `CancellationError` when the
    /// reading task is cancelled (the body is then abandoned and the connection told).
    func next() async throws -> ByteBuffer? {
        let cancelled = Task.isCancelled
        var delivery = deliver(state.withLock { $0.machine.next(cancelled: cancelled, wait: false) })
        if delivery == nil {
            // Nothing yet: wait, deciding again under the lock the continuation is stored under,
            // so a part that arrived in between is not missed.
            delivery = await withTaskCancellationHandler {
                await withUnsafeContinuation { continuation in
                    let action = state.withLock { state in
                        let action = state.machine.next(cancelled: cancelled, wait: true)
                        if case .suspend = action { state.waiting = continuation }
                        return action
                    }
                    if let ready = deliver(action) { continuation.resume(returning: ready) }
                }
            } onCancel: {
                readerLeft()
            }
        }
        switch delivery {
        case .part(let part): return part
        case .end, nil: return nil
        case .failure(let error): throw error
        case .cancelled: throw CancellationError()
        }
    }

    /// Carries out the connection's side of `action` and returns its delivery (nil: wait).
    private func deliver(_ action: StreamedBodyStateMachine.NextAction) -> StreamedBodyStateMachine.Delivery? {
        guard case .deliver(let delivery, let readMore, let done) = action else { return nil }
        if readMore { delegate.produceMore() }
        if done { delegate.didTerminate() }
        return delivery
    }

    /// The reader was cancelled or dropped: the rest of the body is not wanted.
    func readerLeft() {
        let (tell, waiting) = state.withLock { state in
            let (tell, resume) = state.machine.readerLeft()
            return (tell, resume ? state.takeWaiting() : nil)
        }
        waiting?.resume(returning: .cancelled)
        if tell { delegate.didTerminate() }
    }
}
