import Foundation
import Logging
import SwitchyardCore
import Synchronization

/// One request's measurements, finished exactly once: when the answer is complete, which for a
/// stream is after its last byte. Finishing records the metrics and writes the request's log line.
final class RequestTrace: Sendable {
    struct State {
        var provider = "none"
        var model = "none"
        var user: String?
        var upstreamSent: ContinuousClock.Instant?
        var upstreamWait: Duration = .zero
        var firstToken: Duration?
        var usage: TokenUsage?
        var finished = false
    }

    let route: String
    let started: ContinuousClock.Instant
    private let requestID: String
    private let metrics: GatewayMetrics
    private let logger: Logger
    private let state = Mutex(State())

    init(route: String, requestID: String, gateway: Gateway) {
        self.route = route
        self.requestID = requestID
        self.metrics = gateway.metrics
        self.logger = gateway.logger
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

    /// Names the user for the log line (hashed there), when the line will be written.
    func identify(user: @autoclosure () -> String) {
        guard logger.logLevel <= .info else { return }
        let user = user()
        state.withLock { $0.user = user }
    }

    /// The request goes upstream now.
    func upstreamSent() {
        state.withLock { $0.upstreamSent = .now }
    }

    /// The upstream answered with its status and headers.
    func upstreamResponded() {
        guard let sent = state.withLock({ $0.upstreamSent }) else { return }
        metrics.upstreamLatency(provider: provider, duration: .now - sent)
    }

    /// The upstream's answer has ended (or failed): from here the gateway waits on no one.
    func upstreamEnded() {
        state.withLock { s in
            guard let sent = s.upstreamSent else { return }
            s.upstreamWait += .now - sent
            s.upstreamSent = nil
        }
    }

    /// The first streamed bytes are on their way to the client.
    func firstToken() {
        let elapsed = ContinuousClock.now - started
        let provider = state.withLock { s in
            s.firstToken = elapsed
            return s.provider
        }
        metrics.timeToFirstToken(provider: provider, duration: elapsed)
    }

    /// The provider's token usage of the answer.
    func usage(_ usage: TokenUsage?) {
        guard let usage else { return }
        let (provider, model) = state.withLock { s in
            s.usage = usage
            return (s.provider, s.model)
        }
        metrics.tokens(provider: provider, model: model, prompt: usage.promptTokens, completion: usage.completionTokens)
    }

    /// Records a request that ended in `error`: its status, or 500 for an error that has none.
    func finish(error: any Error) {
        finish(status: (error as? GatewayError)?.status ?? 500)
    }

    /// Records the outcome; later calls do nothing.
    func finish(status: Int) {
        upstreamEnded()
        let snapshot = state.withLock { s -> State? in
            guard !s.finished else { return nil }
            s.finished = true
            return s
        }
        guard let snapshot else { return }
        let duration = ContinuousClock.now - started
        metrics.requestFinished(
            route: route, provider: snapshot.provider, model: snapshot.model, status: status, duration: duration,
            overhead: duration - snapshot.upstreamWait)
        guard logger.logLevel <= .info else { return }
        var metadata: Logger.Metadata = [
            "request_id": "\(requestID)", "route": "\(route)", "provider": "\(snapshot.provider)",
            "model": "\(snapshot.model)", "status": "\(status)", "latency_ms": "\(Self.milliseconds(duration))",
            "upstream_ms": "\(Self.milliseconds(snapshot.upstreamWait))",
        ]
        if let ttft = snapshot.firstToken { metadata["ttft_ms"] = "\(Self.milliseconds(ttft))" }
        if let usage = snapshot.usage {
            metadata["tokens_in"] = "\(usage.promptTokens)"
            metadata["tokens_out"] = "\(usage.completionTokens)"
        }
        if let user = snapshot.user { metadata["user"] = "\(Hashing.sha256Hex(user).prefix(16))" }
        logger.info("request", metadata: metadata)
    }

    var provider: String { state.withLock { $0.provider } }
    var model: String { state.withLock { $0.model } }

    static func milliseconds(_ duration: Duration) -> String {
        let ms = Double(duration.nanoseconds) / 1_000_000
        return String(format: "%.3f", ms)
    }
}
