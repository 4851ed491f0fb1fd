/// OpenTelemetry trace export, as the OpenTelemetry specification's environment variables name it
/// (`OTEL_EXPORTER_OTLP_ENDPOINT`, …), also settable in the config file under their lower-case
/// names. Off unless an endpoint is given.
public struct TracingSettings: Sendable, Equatable {
    /// The OTLP/HTTP endpoint: a base (`/v1/traces` is appended) or, from
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, the full URL; nil keeps tracing off.
    public var endpoint: String?
    /// Whether `endpoint` is the full traces URL.
    public var endpointIsFull = false
    /// `http/protobuf` (the default) or `http/json`.
    public var wireProtocol = "http/protobuf"
    /// Headers sent with every export (`OTEL_EXPORTER_OTLP_HEADERS`, `k=v,k2=v2`), such as a
    /// collector's credentials.
    public var headers: [(String, String)] = []
    /// `service.name`.
    public var serviceName = "switchyard"
    /// Further resource attributes (`OTEL_RESOURCE_ATTRIBUTES`, `k=v,k2=v2`).
    public var resourceAttributes: [String: String] = [:]
    /// The sampler (`OTEL_TRACES_SAMPLER`): `always_on`, `always_off`, `traceidratio`,
    /// `parentbased_always_on` (the default), `parentbased_always_off`, `parentbased_traceidratio`.
    public var sampler = "parentbased_always_on"
    /// The ratio samplers' probability (`OTEL_TRACES_SAMPLER_ARG`, 0 to 1; 1 by default).
    public var samplerRatio = 1.0
    /// Whether prompts and completions are recorded (as span events, size-capped); off by default.
    public var captureContent = false
    /// The most bytes of prompt or completion text one event holds.
    public var contentMaxBytes = 4096

    /// Settings with tracing off.
    public init() {}

    /// Whether traces are exported.
    public var enabled: Bool { endpoint != nil }

    /// The sampler names the specification defines and this build supports.
    public static let samplers = [
        "always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off",
        "parentbased_traceidratio",
    ]

    public static func == (lhs: TracingSettings, rhs: TracingSettings) -> Bool {
        lhs.endpoint == rhs.endpoint && lhs.endpointIsFull == rhs.endpointIsFull
            && lhs.wireProtocol == rhs.wireProtocol && lhs.headers.elementsEqual(rhs.headers, by: ==)
            && lhs.serviceName == rhs.serviceName && lhs.resourceAttributes == rhs.resourceAttributes
            && lhs.sampler == rhs.sampler && lhs.samplerRatio == rhs.samplerRatio
            && lhs.captureContent == rhs.captureContent && lhs.contentMaxBytes == rhs.contentMaxBytes
    }
}
