import Foundation

extension ConfigLoader {
    /// Trace export from the `OTEL_*` settings: on with an endpoint, unless `OTEL_SDK_DISABLED`
    /// or `OTEL_TRACES_EXPORTER=none` turn it off.
    func buildTracing(values: SettingValues) throws(ConfigError) -> TracingSettings {
        var tracing = TracingSettings()
        tracing.captureContent = try values.bool(.otelCaptureMessageContent, default: false)
        tracing.contentMaxBytes = try values.int(.traceContentMaxBytes, default: 4096, range: 16...1_048_576)
        let traces = try values.optionalString(.otelTracesEndpoint).flatMap { $0.isEmpty ? nil : $0 }
        let base = try values.optionalString(.otelEndpoint).flatMap { $0.isEmpty ? nil : $0 }
        let exporter = try values.string(.otelTracesExporter, default: "otlp").lowercased()
        guard ["otlp", "none"].contains(exporter) else {
            throw ConfigError("OTEL_TRACES_EXPORTER: `\(exporter)` is not otlp or none")
        }
        let disabled = try values.bool(.otelSDKDisabled, default: false)
        guard let endpoint = traces ?? base, exporter == "otlp", !disabled else { return tracing }
        guard endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://") else {
            throw ConfigError("OTEL_EXPORTER_OTLP_ENDPOINT: `\(endpoint)` is not an http:// or https:// URL")
        }
        tracing.endpoint = endpoint
        tracing.endpointIsFull = traces != nil
        var wire = try values.string(.otelProtocol, default: "http/protobuf")
        if let traces = try values.optionalString(.otelTracesProtocol) { wire = traces }
        guard ["http/protobuf", "http/json"].contains(wire) else {
            throw ConfigError(
                "OTEL_EXPORTER_OTLP_PROTOCOL: `\(wire)` is not http/protobuf or http/json (this build exports over HTTP)"
            )
        }
        tracing.wireProtocol = wire
        tracing.headers = try Self.pairs(values.optionalString(.otelHeaders), setting: "OTEL_EXPORTER_OTLP_HEADERS")
        tracing.resourceAttributes = Dictionary(
            try Self.pairs(values.optionalString(.otelResourceAttributes), setting: "OTEL_RESOURCE_ATTRIBUTES"),
            uniquingKeysWith: { $1 })
        let serviceName = try values.optionalString(.otelServiceName)
        tracing.serviceName = serviceName ?? tracing.resourceAttributes["service.name"] ?? "switchyard"
        tracing.sampler = try values.string(.otelTracesSampler, default: "parentbased_always_on").lowercased()
        guard TracingSettings.samplers.contains(tracing.sampler) else {
            throw ConfigError(
                "OTEL_TRACES_SAMPLER: `\(tracing.sampler)` is not one of \(TracingSettings.samplers.joined(separator: ", "))"
            )
        }
        if let ratio = try values.optionalString(.otelTracesSamplerArg) {
            guard let value = Double(ratio), (0...1).contains(value) else {
                throw ConfigError("OTEL_TRACES_SAMPLER_ARG: `\(ratio)` is not a number from 0 to 1")
            }
            tracing.samplerRatio = value
        }
        return tracing
    }

    /// `k=v,k2=v2` as pairs (values percent-decoded, as the specification's W3C baggage format has them).
    static func pairs(_ text: String?, setting: String) throws(ConfigError) -> [(String, String)] {
        guard let text, !text.isEmpty else { return [] }
        var pairs: [(String, String)] = []
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw ConfigError("\(setting): `\(item)` is not key=value") }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            pairs.append((key, value.removingPercentEncoding ?? value))
        }
        return pairs
    }
}
