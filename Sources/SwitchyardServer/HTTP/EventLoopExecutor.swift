import NIOCore
import NIOPosix

/// Runs a request's task on the event loop of the client's connection. Without it every await
/// hops between NIO's loop threads and Swift's global pool (request in, upstream write, response
/// head, each body chunk, response write), and each hop is a cross-thread wake-up; with it, the
/// handler, its upstream connection (pooled per loop) and its body stream share one thread.
final class EventLoopExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }
}

/// One executor per event loop of a group, made once.
struct EventLoopExecutors: Sendable {
    private let executors: [ObjectIdentifier: EventLoopExecutor]

    /// Executors for every loop of `group`.
    init(_ group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        var executors: [ObjectIdentifier: EventLoopExecutor] = [:]
        for loop in group.makeIterator() { executors[ObjectIdentifier(loop)] = EventLoopExecutor(loop) }
        self.executors = executors
    }

    /// The executor of `loop`; nil for a loop of another group.
    func executor(for loop: any EventLoop) -> EventLoopExecutor? { executors[ObjectIdentifier(loop)] }

    /// Runs `body` on `loop`'s executor (or wherever it is, for a loop of another group).
    func run<T: Sendable>(on loop: any EventLoop, _ body: () async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(executor(for: loop)) { try await body() }
    }
}
