import HTTPTypes
import Tracing

/// Reads W3C trace context (`traceparent`, `tracestate`) from a client request's headers.
struct ClientHeadersExtractor: Extractor {
    /// The header named `key`, if present.
    func extract(key: String, from carrier: HTTPFields) -> String? {
        HTTPField.Name(key).flatMap { carrier[$0] }
    }
}

/// Writes trace context into an upstream request's headers.
struct UpstreamHeadersInjector: Injector {
    /// Adds `key: value`.
    func inject(_ value: String, forKey key: String, into carrier: inout [(name: String, value: String)]) {
        carrier.append((key, value))
    }
}
