import CoreMetrics
import Foundation
import NIOCore
import Prometheus
import SwitchyardCore
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
    let counters: MetricHandles<MetricKey, CoreMetrics.Counter>
    let dollarCounters: MetricHandles<MetricKey, CoreMetrics.FloatingPointCounter>
    /// The duration histograms, exported beside the registry's metrics.
    let histograms: LatencyHistograms
    let timers: MetricHandles<MetricKey, LatencyHistogram>
    /// A finished request's series: one cached lookup per request rather than one per series.
    let requestSeries: MetricHandles<RequestSeries.Key, RequestSeries>
    /// The upstream latency and time-to-first-token timers by provider, looked up without
    /// building their dimensions per request.
    let upstreamLatencies, firstTokenTimes: MetricHandles<String, LatencyHistogram>

    /// What a finished request records to: its count, durations, tokens and cost.
    struct RequestSeries: Sendable {
        /// The series' labels, and which of the optional series a request of this key records.
        struct Key: Hashable, Sendable {
            let route: String
            let provider: String
            /// The model's label (bounded by `ModelLabeler`).
            let model: String
            let status: Int
            /// The gateway key's name (`none` without keys).
            let key: String
            /// Whether the request has token usage to count.
            let counted: Bool
            /// Whether the request has a cost in dollars to add.
            let priced: Bool
        }

        let requests: CoreMetrics.Counter
        let duration: LatencyHistogram
        let overhead: LatencyHistogram
        /// The prompt and completion token counters, for requests with usage.
        let tokens: (prompt: CoreMetrics.Counter, completion: CoreMetrics.Counter)?
        /// The cost counter, for requests with a price.
        let cost: CoreMetrics.FloatingPointCounter?
    }

    /// Creates the metrics on a fresh registry.
    public init() {
        registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        // LLM latencies range from milliseconds (errors, cache hits) to minutes (long generations);
        // the gateway's own overhead is measured in microseconds.
        let histograms = LatencyHistograms(buckets: [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
            .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
            .seconds(30), .seconds(60), .seconds(120), .seconds(300), .seconds(600),
        ])
        self.histograms = histograms
        let counters = MetricHandles { (key: MetricKey) in
            CoreMetrics.Counter(label: key.label, dimensions: key.dimensions, factory: factory)
        }
        let dollarCounters = MetricHandles { (key: MetricKey) in
            CoreMetrics.FloatingPointCounter(label: key.label, dimensions: key.dimensions, factory: factory)
        }
        let timers = MetricHandles { (key: MetricKey) in histograms.make(key.label, key.dimensions) }
        (self.counters, self.dollarCounters, self.timers) = (counters, dollarCounters, timers)
        upstreamLatencies = MetricHandles { (provider: String) in
            timers("switchyard_upstream_latency_seconds", [("provider", provider)])
        }
        firstTokenTimes = MetricHandles { (provider: String) in
            timers("switchyard_time_to_first_token_seconds", [("provider", provider)])
        }
        requestSeries = MetricHandles { key in
            let (route, provider, model) = (("route", key.route), ("provider", key.provider), ("model", key.model))
            let status = String(key.status)
            return RequestSeries(
                requests: counters(
                    "switchyard_requests_total",
                    [route, provider, model, ("status", status), ("status_class", "\(status.prefix(1))xx")]),
                duration: timers("switchyard_request_duration_seconds", [route, provider]),
                overhead: timers("switchyard_gateway_overhead_seconds", [route]),
                tokens: key.counted
                    ? (
                        counters("switchyard_prompt_tokens_total", [provider, model]),
                        counters("switchyard_completion_tokens_total", [provider, model])
                    ) : nil,
                cost: key.priced
                    ? dollarCounters("switchyard_cost_usd_total", [provider, model, ("key", key.key)]) : nil)
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
        histograms.emit(into: &buffer)
        return buffer
    }

    /// Counts a request entering the gateway.
    func requestStarted() {
        inFlight.record(inFlightCount.add(1, ordering: .relaxed).newValue)
    }

    /// Counts a request leaving, with its outcome, its duration and the part of it the gateway
    /// itself took (the duration minus the time spent waiting on the provider), and adds its token
    /// usage and its cost in dollars when it has them; `key` is the gateway key's name (`none`
    /// without keys).
    func requestFinished(
        route: String, provider: String, model: String, key: String, status: Int, duration: TimeAmount,
        overhead: TimeAmount, usage: TokenUsage?, dollars: Double?
    ) {
        inFlight.record(inFlightCount.subtract(1, ordering: .relaxed).newValue)
        let series = requestSeries(
            RequestSeries.Key(
                route: route, provider: provider, model: modelLabels.label(for: model), status: status, key: key,
                counted: usage != nil, priced: dollars != nil))
        series.requests.increment()
        series.duration.recordNanoseconds(duration.nanoseconds)
        series.overhead.recordNanoseconds(max(overhead.nanoseconds, 0))
        if let usage, let tokens = series.tokens {
            tokens.prompt.increment(by: usage.promptTokens)
            tokens.completion.increment(by: usage.completionTokens)
        }
        if let dollars, let cost = series.cost { cost.increment(by: dollars) }
    }

    /// Records the time from sending a request upstream to the upstream's status and headers.
    func upstreamLatency(provider: String, duration: TimeAmount) {
        upstreamLatencies(provider).recordNanoseconds(duration.nanoseconds)
    }

    /// Counts a stream starting or ending.
    func streamStarted() { streamsInFlight.record(streamsInFlightCount.add(1, ordering: .relaxed).newValue) }
    /// Counts a stream ending.
    func streamFinished() { streamsInFlight.record(streamsInFlightCount.subtract(1, ordering: .relaxed).newValue) }

    /// Records the time from request start to the first streamed byte.
    func timeToFirstToken(provider: String, duration: TimeAmount) {
        firstTokenTimes(provider).recordNanoseconds(duration.nanoseconds)
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
