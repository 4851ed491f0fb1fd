/// Keeps large CPU-bound steps off the event loops. A request's task runs on its connection's event
/// loop (see `EventLoopExecutor`), which serves other connections too; parsing a request of
/// megabytes or counting its prompt's tokens there would hold all of them up for as long as it takes.
enum HeavyWork {
    /// Inputs of at least this many bytes (a few milliseconds of counting) are worked on in Swift
    /// Concurrency's pool; smaller ones in place, where the hop would cost more than the work.
    static let offLoopBytes = 64 * 1024

    /// Runs `work` on the global concurrent executor when `bytes` reaches `offLoopBytes`, in place
    /// otherwise; the caller resumes on its own executor either way.
    static func run<T: Sendable, Failure: Error>(
        bytes: Int, _ work: () throws(Failure) -> T
    ) async throws(Failure) -> T {
        guard bytes >= offLoopBytes else { return try work() }
        return try await withTaskExecutorPreference(globalConcurrentExecutor) { () throws(Failure) -> T in try work() }
    }
}
