import NIOCore

extension EventLoopFuture where Value: Sendable {
    /// The future's value, awaited on the caller's executor. NIO's `get()` runs on the generic
    /// executor, so awaiting it switches executors on the way in and out, and under a task
    /// executor preference each switch looks the preference up under the task's lock.
    func value() async throws -> Value {
        try await withUnsafeThrowingContinuation { continuation in
            whenComplete { continuation.resume(with: $0) }
        }
    }
}
