import Logging
import Synchronization

/// Turns rate-limit store failures into one warning per incident (not one per request), a
/// metric per failure, and a note when the store recovers.
final class StoreIncident: Sendable {
    private let failing = Atomic<Bool>(false)
    private let logger: Logger
    private let metrics: GatewayMetrics
    private let failOpen: Bool

    init(logger: Logger, metrics: GatewayMetrics, failOpen: Bool) {
        self.logger = logger
        self.metrics = metrics
        self.failOpen = failOpen
    }

    /// Records one store result: nil for success.
    func record(_ error: (any Error)?) {
        guard let error else {
            if failing.exchange(false, ordering: .relaxed) {
                metrics.budgetStoreFailing.store(false, ordering: .relaxed)
                logger.notice("rate-limit store recovered")
            }
            return
        }
        metrics.storeError()
        if !failing.exchange(true, ordering: .relaxed) {
            metrics.budgetStoreFailing.store(true, ordering: .relaxed)
            logger.warning(
                "rate-limit store failing; \(failOpen ? "serving without limits (fail-open)" : "answering 503 (fail-closed)")",
                metadata: ["error": "\(error)"])
        }
    }
}
