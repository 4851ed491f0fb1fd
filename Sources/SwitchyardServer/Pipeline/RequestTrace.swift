import Synchronization

/// One request's measurements, finished exactly once: when the answer is complete, which for a
/// stream is after its last byte.
final class RequestTrace: Sendable {
    struct State {
        var provider = "none"
        var model = "none"
        var finished = false
    }

    let route: String
    let started: ContinuousClock.Instant
    private let metrics: GatewayMetrics
    private let state = Mutex(State())

    init(route: String, metrics: GatewayMetrics) {
        self.route = route
        self.metrics = metrics
        self.started = .now
        metrics.requestStarted()
    }

    /// Names the provider and model once routing has chosen them.
    func routed(provider: String, model: String) {
        state.withLock {
            $0.provider = provider
            $0.model = model
        }
    }

    /// Records the outcome; later calls do nothing.
    func finish(status: Int) {
        let snapshot = state.withLock { s -> State? in
            guard !s.finished else { return nil }
            s.finished = true
            return s
        }
        guard let snapshot else { return }
        metrics.requestFinished(
            route: route, provider: snapshot.provider, model: snapshot.model, status: status,
            duration: .now - started)
    }

    var provider: String { state.withLock { $0.provider } }
    var model: String { state.withLock { $0.model } }
}
