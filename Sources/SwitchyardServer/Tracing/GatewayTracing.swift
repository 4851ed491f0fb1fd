import Logging
import OTel
import ServiceLifecycle
import SwitchyardCore
import Tracing

/// The gateway's tracer: swift-otel's OTLP/HTTP exporter behind swift-distributed-tracing's
/// `Tracer`, set up from `TracingSettings`. Its service batches spans and exports them off the
/// request path, and flushes them at graceful shutdown.
public struct GatewayTracing: Sendable {
    /// Starts spans and carries their context across processes.
    let tracer: any Tracer
    /// Exports spans; runs in the gateway's service group.
    let service: any Service
    /// What is recorded.
    let settings: TracingSettings

    /// The tracer `settings` ask for, or nil when tracing is off.
    static func make(_ settings: TracingSettings, metrics: GatewayMetrics, logger: Logger) throws -> GatewayTracing? {
        guard let endpoint = settings.endpoint else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = settings.serviceName
        configuration.resourceAttributes = settings.resourceAttributes
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.enabled = true
        configuration.traces.exporter = .otlp
        configuration.propagators = [.traceContext]
        configuration.traces.otlpExporter.endpoint =
            settings.endpointIsFull ? endpoint : endpoint + (endpoint.hasSuffix("/") ? "" : "/") + "v1/traces"
        configuration.traces.otlpExporter.protocol = settings.wireProtocol == "http/json" ? .httpJSON : .httpProtobuf
        configuration.traces.otlpExporter.headers = settings.headers
        configuration.traces.sampler = sampler(settings)
        let diagnostics = Logger(label: "switchyard.otel") { _ in SpanLossLog(metrics: metrics, logger: logger) }
        configuration.diagnosticLogger = .custom(diagnostics)
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        return GatewayTracing(tracer: backend.factory, service: backend.service, settings: settings)
    }

    /// The sampler the settings name.
    private static func sampler(
        _ settings: TracingSettings
    ) -> OTel.Configuration.TracesConfiguration.SamplerConfiguration {
        let ratio = settings.samplerRatio
        return switch settings.sampler {
        case "always_on": .alwaysOn
        case "always_off": .alwaysOff
        case "traceidratio": .traceIDRatio(ratio: ratio) ?? .alwaysOn
        case "parentbased_always_off": .parentBasedAlwaysOff
        case "parentbased_traceidratio": .parentBasedTraceIDRatio(ratio: ratio) ?? .parentBasedAlwaysOn
        default: .parentBasedAlwaysOn
        }
    }
}
