import Logging
import Synchronization

/// The exporter's diagnostic log, read for what it says about lost spans: swift-otel reports a
/// full queue and a failed export only as log lines, so this handler counts the spans they name in
/// `switchyard_trace_spans_dropped_total` and warns once per outage (again after an export
/// succeeds), instead of once per batch.
struct SpanLossLog: LogHandler {
    /// Whether an outage was warned about, shared by the handler's copies.
    private final class Outage: Sendable {
        let warned = Atomic<Bool>(false)
    }

    private let outage = Outage()
    private let metrics: GatewayMetrics
    private let logger: Logger
    var metadata: Logger.Metadata = [:]
    /// Debug, so successful exports (logged at debug) end an outage.
    var logLevel: Logger.Level = .debug

    /// A handler counting into `metrics` and warning through `logger`.
    init(metrics: GatewayMetrics, logger: Logger) {
        self.metrics = metrics
        self.logger = logger
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Counts the spans a dropped or failed batch held.
    func log(event: LogEvent) {
        let fields = metadata.merging(event.metadata ?? [:]) { $1 }
        let text = event.message.description
        let lost: Int
        if text.hasPrefix("Spans were dropped") {
            lost = Int("\(fields["dropped_count"] ?? "0")") ?? 0
        } else if text.hasPrefix("Failed to export batch") {
            lost = Int("\(fields["batch_size"] ?? "0")") ?? 0
        } else {
            if text.hasPrefix("Exported batch"), outage.warned.exchange(false, ordering: .relaxed) {
                logger.notice("trace export works again")
            }
            return
        }
        guard lost > 0 else { return }
        metrics.traceSpansDropped(lost)
        if !outage.warned.exchange(true, ordering: .relaxed) {
            logger.warning(
                "trace spans are being dropped: the collector does not take them (switchyard_trace_spans_dropped_total counts them)",
                metadata: ["reason": "\(text)"])
        }
    }
}
