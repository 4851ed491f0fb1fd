import NIOCore
import NIOPosix

/// Runs Swift Concurrency jobs on one SwiftNIO event loop.
///
/// A request's task prefers the executor of its client connection's event loop, where its upstream
/// connection lives too, so every `await` between reading the request, the upstream exchange and
/// writing the answer resumes on that one thread: no hop to the concurrency pool and back, no
/// thread wake-up per step (on a 2-core machine those wake-ups cost more than the proxying).
final class EventLoopExecutor: TaskExecutor {
    /// The loop that runs the jobs.
    let eventLoop: any EventLoop

    private init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// One executor per loop of the shared group, made once: tasks pinned to the same loop share an
    /// executor, so switching between them never needs an enqueue.
    private static let shared: [ObjectIdentifier: EventLoopExecutor] = {
        var table: [ObjectIdentifier: EventLoopExecutor] = [:]
        for loop in MultiThreadedEventLoopGroup.singleton.makeIterator() {
            table[ObjectIdentifier(loop)] = EventLoopExecutor(loop)
        }
        return table
    }()

    /// The executor of `loop` (a new one for a loop outside the shared group).
    static func of(_ loop: any EventLoop) -> EventLoopExecutor {
        shared[ObjectIdentifier(loop)] ?? EventLoopExecutor(loop)
    }

    /// Queues the job on the loop; it runs there as a job of this task executor, so what it awaits
    /// next comes back here.
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
