import ServiceLifecycle
import Synchronization

/// Whether the gateway takes new work: true from start until graceful shutdown begins.
final class Readiness: Sendable {
    private let ready = Atomic<Bool>(true)

    var isReady: Bool { ready.load(ordering: .relaxed) }

    func shutdownStarted() { ready.store(false, ordering: .relaxed) }
}

/// A service whose only job is to mark the gateway unready when graceful shutdown starts.
struct ReadinessService: Service {
    let readiness: Readiness

    func run() async throws {
        try? await gracefulShutdown()
        readiness.shutdownStarted()
    }
}
