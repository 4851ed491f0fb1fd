import Foundation
import HTTPTypes
import Logging
import NIOCore
import SwitchyardCore

/// One request's measurements, gathered as its phases run and recorded once, by the lifecycle's
/// last phase: the request metrics, the request's log line and its spend ledger row. A value in the
/// request's context: one task runs a request from start to end, so nothing here is shared. Times
/// are read from the monotonic clock as NIO's 64-bit nanoseconds (a `Duration` takes 128-bit
/// arithmetic to read back).
struct RequestRecord: Sendable {
    /// The route label (`chat`, `embeddings`, `models`, `unknown`).
    let route: String
    /// When the request started.
    let started: NIODeadline
    /// Whether the request counts in the request metrics and gets a log line: API requests do,
    /// health and readiness probes do not.
    let counted: Bool
    /// The provider serving the request, once planned.
    private(set) var provider = "none"
    /// The model asked for, once parsed.
    private(set) var model = "none"
    /// The user the limits apply to, for the log line (hashed there).
    private var user: String?
    /// The gateway key's name and team, when keys are configured.
    private var key: (name: String, team: String?)?
    /// The user as the ledger names it: the user header's value, else (without a key) the gateway's
    /// name for the caller.
    private var ledgerUser: String?
    /// When the current upstream exchange started, while one is open.
    private var upstreamSent: NIODeadline?
    /// Time spent waiting on upstreams, so overhead is the rest.
    private var upstreamWait: TimeAmount = .zero
    /// When the first streamed bytes left, after the start.
    private var firstToken: TimeAmount?
    /// The answer's token usage, when known.
    private(set) var usage: TokenUsage?
    /// What the answer cost, once charged.
    private(set) var charge: SpendMeter.Charge?
    /// The request's trace span, when tracing is on.
    var span: RequestSpan?

    /// A record of a request on `route`, started now and, when `counted`, in flight and (with
    /// `tracing`) traced, continuing the trace context of `headers`.
    init(route: String, counted: Bool, metrics: GatewayMetrics, tracing: GatewayTracing?, headers: HTTPFields) {
        self.route = route
        self.started = .now()
        self.counted = counted
        if counted { metrics.requestStarted() }
        if counted, let tracing { span = RequestSpan(tracing: tracing, route: route, headers: headers) }
    }

    /// Names the provider and model once routing has chosen them.
    mutating func routed(provider: String, model: String) {
        self.provider = provider
        self.model = model
    }

    /// Names the caller: the user for the log line (when it will be written) and the ledger, and
    /// the gateway key.
    mutating func identify(user: String?, header: String?, key: GatewayKey?, gateway: Gateway) {
        self.key = key.map { ($0.name, $0.team) }
        span?.identified(key: key)
        if gateway.logger.logLevel <= .info { self.user = user }
        if gateway.ledger != nil { ledgerUser = header ?? (key == nil ? user : nil) }
    }

    /// The request goes upstream now.
    mutating func upstreamStarted() {
        upstreamSent = .now()
    }

    /// The upstream's answer has ended (or failed): from here the gateway waits on no one.
    mutating func upstreamEnded() {
        guard let sent = upstreamSent else { return }
        upstreamWait += .now() - sent
        upstreamSent = nil
    }

    /// The first streamed bytes are on their way to the client.
    mutating func firstBytes(metrics: GatewayMetrics) {
        let elapsed = NIODeadline.now() - started
        firstToken = elapsed
        metrics.timeToFirstToken(provider: provider, duration: elapsed)
        span?.firstToken()
    }

    /// Bytes of the answer leave for the client (read by the trace, when there is one).
    mutating func answered(_ bytes: ByteBuffer) {
        span?.observe(bytes)
    }

    /// The answer's charge: its usage and cost.
    mutating func charged(_ charge: SpendMeter.Charge) {
        self.charge = charge
        self.usage = charge.usage
    }

    /// Records the outcome: the request metrics, its cost, its ledger row, its trace span (with
    /// `error` when it failed, and the `completion` text when content is traced) and, at `info`,
    /// the log line.
    mutating func record(
        status: Int, requestID: String, gateway: Gateway, error: GatewayError? = nil, completion: String? = nil
    ) {
        upstreamEnded()
        guard counted else { return }
        span?.end(status: status, error: error, usage: usage, completion: completion)
        let (metrics, logger) = (gateway.metrics, gateway.logger)
        if let charge, charge.dollars == nil {
            metrics.unpriced(provider: provider, model: model)
            gateway.warnUnpriced(provider: provider, model: model)
        }
        let duration = NIODeadline.now() - started
        // The row is queued before the request stops counting as in flight: the ledger's last
        // write at shutdown waits for in-flight requests.
        gateway.ledger?.append(
            LedgerRow(
                time: Date(), requestID: requestID, keyName: key?.name, user: ledgerUser, team: key?.team ?? nil,
                route: route, provider: provider, model: model,
                usage: usage ?? TokenUsage(promptTokens: 0, completionTokens: 0),
                costUSD: charge == nil ? 0 : charge?.dollars, status: status,
                latencyMilliseconds: Double(duration.nanoseconds) / 1_000_000))
        metrics.requestFinished(
            route: route, provider: provider, model: model, key: key?.name ?? "none", status: status,
            duration: duration, overhead: duration - upstreamWait, usage: usage, dollars: charge?.dollars)
        guard logger.logLevel <= .info else { return }
        var metadata: Logger.Metadata = [
            "request_id": "\(requestID)", "route": "\(route)", "provider": "\(provider)", "model": "\(model)",
            "status": "\(status)", "latency_ms": "\(Self.milliseconds(duration))",
            "upstream_ms": "\(Self.milliseconds(upstreamWait))",
        ]
        if let firstToken { metadata["ttft_ms"] = "\(Self.milliseconds(firstToken))" }
        if let usage {
            metadata["tokens_in"] = "\(usage.promptTokens)"
            metadata["tokens_out"] = "\(usage.completionTokens)"
        }
        if let user { metadata["user"] = "\(Hashing.sha256Hex(user).prefix(16))" }
        if let charge { metadata["cost_usd"] = "\(charge.dollars.map(ModelPrice.format) ?? "unpriced")" }
        logger.info("request", metadata: metadata)
    }

    /// `duration` in milliseconds with three decimals, as the log line shows it.
    static func milliseconds(_ duration: TimeAmount) -> String {
        let ms = Double(duration.nanoseconds) / 1_000_000
        return String(format: "%.3f", ms)
    }
}
