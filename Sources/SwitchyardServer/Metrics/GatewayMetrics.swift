import CoreMetrics
import Foundation
import Prometheus
import Synchronization

/// The gateway's Prometheus metrics, on one registry per gateway (so in-process tests stay apart),
/// recorded through swift-metrics.
public final class GatewayMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    let inFlight: CoreMetrics.Gauge
    let streamsInFlight: CoreMetrics.Gauge
    let inFlightCount = Atomic<Int>(0)
    /// Whether the budgets' store (Redis) is failing now, for the admin status.
    let budgetStoreFailing = Atomic<Bool>(false)
    let streamsInFlightCount = Atomic<Int>(0)
    let modelLabels = ModelLabeler(limit: 100)
    let counters: MetricHandles<CoreMetrics.Counter>
    let dollarCounters: MetricHandles<CoreMetrics.FloatingPointCounter>
    let timers: MetricHandles<CoreMetrics.Timer>
    /// A finished request's series by route, provider, model and status: one cached lookup per
    /// request rather than one per series.
    let requestSeries: MetricHandles<RequestSeries>
    /// The token counters by provider and model, looked up together.
    let tokenSeries: MetricHandles<TokenSeries>

    /// What a finished request records to.
    struct RequestSeries: Sendable {
        let requests: CoreMetrics.Counter
        let duration: CoreMetrics.Timer
        let overhead: CoreMetrics.Timer
    }

    /// The prompt and completion token counters of one provider and model.
    struct TokenSeries: Sendable {
        let prompt: CoreMetrics.Counter
        let completion: CoreMetrics.Counter
    }

    /// Creates the metrics on a fresh registry.
    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // LLM latencies range from milliseconds (errors, cache hits) to minutes (long generations);
        // the gateway's own overhead is measured in microseconds.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
            .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
            .seconds(30), .seconds(60), .seconds(120), .seconds(300), .seconds(600),
        ]
        let made = factory
        counters = MetricHandles { CoreMetrics.Counter(label: $0, dimensions: $1, factory: made) }
        dollarCounters = MetricHandles { CoreMetrics.FloatingPointCounter(label: $0, dimensions: $1, factory: made) }
        let timers = MetricHandles { CoreMetrics.Timer(label: $0, dimensions: $1, factory: made) }
        self.timers = timers
        let counters = self.counters
        requestSeries = MetricHandles { _, labels in
            let (route, provider, status) = (labels[0], labels[1], labels[3])
            return RequestSeries(
                requests: counters(
                    "switchyard_requests_total", labels + [("status_class", "\(status.1.prefix(1))xx")]),
                duration: timers("switchyard_request_duration_seconds", [route, provider]),
                overhead: timers("switchyard_gateway_overhead_seconds", [route]))
        }
        tokenSeries = MetricHandles { _, labels in
            TokenSeries(
                prompt: counters("switchyard_prompt_tokens_total", labels),
                completion: counters("switchyard_completion_tokens_total", labels))
        }
        inFlight = CoreMetrics.Gauge(label: "switchyard_requests_in_flight", dimensions: [], factory: factory)
        streamsInFlight = CoreMetrics.Gauge(label: "switchyard_streams_in_flight", dimensions: [], factory: factory)
        inFlight.record(0)
        streamsInFlight.record(0)
        // Exported from the start, so alerts on it work before the first failure.
        counters("switchyard_ratelimit_store_errors_total").increment(by: 0)
        counters("switchyard_ledger_dropped_rows_total").increment(by: 0)
        counters("switchyard_trace_spans_dropped_total").increment(by: 0)
    }

    /// The Prometheus text exposition of every metric.
    public func render() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    /// Counts a request entering the gateway.
    func requestStarted() {
        inFlight.record(inFlightCount.add(1, ordering: .relaxed).newValue)
    }

    /// Counts a request leaving, with its outcome, its duration and the part of it the gateway
    /// itself took (the duration minus the time spent waiting on the provider).
    func requestFinished(
        route: String, provider: String, model: String, status: Int, duration: Duration, overhead: Duration
    ) {
        inFlight.record(inFlightCount.subtract(1, ordering: .relaxed).newValue)
        let series = requestSeries(
            "request",
            [
                ("route", route), ("provider", provider), ("model", modelLabels.label(for: model)),
                ("status", String(status)),
            ])
        series.requests.increment()
        series.duration.recordNanoseconds(duration.nanoseconds)
        series.overhead.recordNanoseconds(max(overhead.nanoseconds, 0))
    }

    /// Records the time from sending a request upstream to the upstream's status and headers.
    func upstreamLatency(provider: String, duration: Duration) {
        timers("switchyard_upstream_latency_seconds", [("provider", provider)]).recordNanoseconds(duration.nanoseconds)
    }

    /// Counts a stream starting or ending.
    func streamStarted() { streamsInFlight.record(streamsInFlightCount.add(1, ordering: .relaxed).newValue) }
    /// Counts a stream ending.
    func streamFinished() { streamsInFlight.record(streamsInFlightCount.subtract(1, ordering: .relaxed).newValue) }

    /// Records the time from request start to the first streamed byte.
    func timeToFirstToken(provider: String, duration: Duration) {
        timers("switchyard_time_to_first_token_seconds", [("provider", provider)])
            .recordNanoseconds(duration.nanoseconds)
    }

    /// Counts an upstream failure by kind (connect, timeout, status, protocol).
    func upstreamError(provider: String, kind: String) {
        counters("switchyard_upstream_errors_total", [("provider", provider), ("kind", kind)]).increment()
    }

    /// Counts a request refused by the token budget.
    func rateLimited(provider: String) { countPerProvider("switchyard_rate_limited_requests_total", provider) }

    /// Counts a settlement that had to estimate because the provider reported no usage.
    func usageEstimated(provider: String) { countPerProvider("switchyard_usage_estimated_total", provider) }

    /// Counts a retry of an upstream request after a retryable failure.
    func retry(provider: String) { countPerProvider("switchyard_upstream_retries_total", provider) }

    /// Counts a request sent on to another deployment or a fallback, by the provider taking it.
    func fallback(provider: String) { countPerProvider("switchyard_upstream_fallbacks_total", provider) }

    /// Counts a request refused because the gateway was at its concurrency limit.
    func overloaded() {
        counters("switchyard_overload_rejections_total").increment()
    }

    private func countPerProvider(_ label: String, _ provider: String) {
        counters(label, [("provider", provider)]).increment()
    }

    /// Counts a failed rate-limit store operation (Redis down or slow).
    func storeError() { counters("switchyard_ratelimit_store_errors_total").increment() }

    /// Adds the cost of a request in dollars; `key` is the gateway key's name (`none` without keys).
    func cost(provider: String, model: String, key: String, dollars: Double) {
        dollarCounters(
            "switchyard_cost_usd_total",
            [("provider", provider), ("model", modelLabels.label(for: model)), ("key", key)]
        ).increment(by: dollars)
    }

    /// Counts a request for a model without a price.
    func unpriced(provider: String, model: String) {
        counters(
            "switchyard_unpriced_requests_total", [("provider", provider), ("model", modelLabels.label(for: model))]
        ).increment()
    }

    /// Counts trace spans lost because the collector did not take them (or the queue was full).
    func traceSpansDropped(_ spans: Int) { counters("switchyard_trace_spans_dropped_total").increment(by: spans) }

    /// Counts ledger rows lost because the database was down longer than the queue could hold.
    func ledgerDropped(_ rows: Int) { counters("switchyard_ledger_dropped_rows_total").increment(by: rows) }

    /// Adds the provider-reported token usage of a response.
    func tokens(provider: String, model: String, prompt: Int, completion: Int) {
        let series = tokenSeries("tokens", [("provider", provider), ("model", modelLabels.label(for: model))])
        series.prompt.increment(by: prompt)
        series.completion.increment(by: completion)
    }
}

extension Duration {
    /// The duration in whole nanoseconds.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// Bounds the `model` label: the first `limit` distinct names keep their own label, later ones
/// become `other`, so a client cannot grow the metric set without limit.
final class ModelLabeler: Sendable {
    private let seen: Mutex<Set<String>>
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
        self.seen = Mutex([])
    }

    func label(for model: String) -> String {
        guard model.utf8.count <= 100 else { return "other" }
        return seen.withLock { set in
            if set.contains(model) { return model }
            guard set.count < limit else { return "other" }
            set.insert(model)
            return model
        }
    }
}
