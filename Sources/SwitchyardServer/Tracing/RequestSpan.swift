import HTTPTypes
import NIOCore
import SwitchyardCore
import Tracing

/// One request's trace: a server span named for the operation and model (`chat gpt-4o`), with the
/// OpenTelemetry generative-AI attributes (`gen_ai.*`), a client span per upstream attempt, and
/// events for the rate-limit decision and the first token. It continues a client's W3C trace
/// context. Prompt and completion text are recorded only when the settings say so, capped.
struct RequestSpan: Sendable {
    /// The server span.
    let span: any Span
    /// The tracer, for the attempts' spans and the context they carry upstream.
    let tracer: any Tracer
    /// What is recorded.
    let settings: TracingSettings
    /// The operation spans are named for: the conventions' name, or the route's.
    let operation: String
    /// The answer's id, model and finish reasons, read as it leaves.
    private var facts = AnswerFacts()
    /// The prompt, kept for the content event when content is recorded.
    private var prompt: String?

    /// A span for a request on `route`, continuing the trace `headers` carry, if any.
    init(tracing: GatewayTracing, route: String, headers: HTTPFields) {
        var context = ServiceContext.topLevel
        tracing.tracer.extract(headers, into: &context, using: ClientHeadersExtractor())
        tracer = tracing.tracer
        settings = tracing.settings
        operation = Self.operation(route) ?? route
        span = tracing.tracer.startSpan(route, context: context, ofKind: .server)
        guard span.isRecording else { return }
        span.updateAttributes { attributes in
            attributes["switchyard.route"] = route
            if let operation = Self.operation(route) { attributes["gen_ai.operation.name"] = operation }
        }
    }

    /// `gen_ai.operation.name` of a route: what the conventions call its operation.
    static func operation(_ route: String) -> String? {
        switch route {
        case "chat", "messages", "responses": "chat"
        case "embeddings": "embeddings"
        default: nil
        }
    }

    /// The request asks for `model`; `body` is read for its sampling settings (and, when content
    /// is recorded, its prompt).
    mutating func parsed(model: String, body: ByteBuffer) {
        span.operationName = "\(operation) \(model)"
        guard span.isRecording else { return }
        let sampling = SamplingParameters(body: body.readableBytesView)
        span.updateAttributes { attributes in
            attributes["gen_ai.request.model"] = model
            if let maxTokens = sampling.maxTokens { attributes["gen_ai.request.max_tokens"] = maxTokens }
            if let temperature = sampling.temperature { attributes["gen_ai.request.temperature"] = temperature }
            if let topP = sampling.topP { attributes["gen_ai.request.top_p"] = topP }
        }
        if settings.captureContent { prompt = Self.capped(String(buffer: body), settings.contentMaxBytes) }
    }

    /// The key that authenticated the request.
    func identified(key: GatewayKey?) {
        if let key, span.isRecording { span.attributes["switchyard.key"] = key.name }
    }

    /// Routing chose `target` first.
    func routed(_ target: ModelRouter.Target) {
        guard span.isRecording else { return }
        span.updateAttributes { attributes in
            attributes["gen_ai.provider.name"] = Self.providerName(target.endpoint.kind)
            attributes["switchyard.provider"] = target.endpoint.id.rawValue
        }
    }

    /// The budgets admitted the request, or refused it with `error`.
    func rateLimited(refused error: GatewayError?) {
        var attributes: SpanAttributes = [:]
        attributes["switchyard.rate_limit.decision"] = error == nil ? "admitted" : "refused"
        if let error { attributes["switchyard.rate_limit.reason"] = error.code ?? error.type }
        span.addEvent(SpanEvent(name: "switchyard.rate_limit", attributes: attributes))
    }

    /// The first bytes of a streamed answer left for the client.
    func firstToken() {
        span.addEvent(SpanEvent(name: "gen_ai.first_token"))
    }

    /// Reads bytes of the answer as they leave (only for recorded spans).
    mutating func observe(_ bytes: ByteBuffer) {
        guard span.isRecording else { return }
        facts.observe(bytes.readableBytesView)
    }

    /// The span of attempt `number` (from 1) at `target`, a child of this one; nil when this
    /// request is not sampled (its attempts would not be either).
    func attempt(_ target: ModelRouter.Target, number: Int) -> AttemptSpan? {
        guard span.isRecording else { return nil }
        let child = tracer.startSpan("\(operation) \(target.upstreamModel)", context: span.context, ofKind: .client)
        child.updateAttributes { attributes in
            attributes["gen_ai.provider.name"] = Self.providerName(target.endpoint.kind)
            attributes["gen_ai.request.model"] = target.upstreamModel
            attributes["server.address"] = target.endpoint.baseURL.host
            attributes["server.port"] = target.endpoint.baseURL.port
            attributes["switchyard.deployment"] = target.deploymentKey
            attributes["switchyard.attempt"] = number
        }
        return AttemptSpan(span: child, tracer: tracer)
    }

    /// Ends the span: the answer's status, usage and facts, the error's type when it failed, and
    /// (when content is recorded) the prompt and the completion.
    func end(status: Int, error: GatewayError?, usage: TokenUsage?, completion: String?) {
        span.updateAttributes { attributes in
            attributes["http.response.status_code"] = status
            if let usage {
                attributes["gen_ai.usage.input_tokens"] = usage.promptTokens
                attributes["gen_ai.usage.output_tokens"] = usage.completionTokens
            }
            if let id = facts.id { attributes["gen_ai.response.id"] = id }
            if let model = facts.model { attributes["gen_ai.response.model"] = model }
            if !facts.reasons.isEmpty { attributes["gen_ai.response.finish_reasons"] = facts.reasons }
            if let error { attributes["error.type"] = error.code ?? error.type }
        }
        if let error, status >= 500 { span.setStatus(SpanStatus(code: .error, message: error.message)) }
        if settings.captureContent, span.isRecording {
            var attributes: SpanAttributes = [:]
            if let prompt { attributes["gen_ai.input.messages"] = prompt }
            if let completion {
                attributes["gen_ai.output.messages"] = Self.capped(completion, settings.contentMaxBytes)
            }
            span.addEvent(SpanEvent(name: "gen_ai.client.inference.operation.details", attributes: attributes))
        }
        span.end()
    }

    /// `text` cut to at most `limit` bytes, on a character boundary.
    static func capped(_ text: String, _ limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var end = text.utf8.index(text.utf8.startIndex, offsetBy: limit)
        while end > text.startIndex, !text.indices.contains(end) { end = text.utf8.index(before: end) }
        return String(text[..<end]) + "…"
    }

    /// `gen_ai.provider.name` of a provider kind, as the conventions name the providers.
    static func providerName(_ kind: ProviderKind) -> String {
        switch kind {
        case .openai: "openai"
        case .gemini: "gcp.gemini"
        case .anthropic: "anthropic"
        case .ollama: "ollama"
        case .azure: "azure.ai.openai"
        case .bedrock: "aws.bedrock"
        case .vertex: "gcp.vertex_ai"
        }
    }
}

extension RequestSpan {
    /// Adds this request's trace context to `request` (an unsampled request's attempts have no
    /// spans of their own, but the upstream still joins the trace's decision).
    func propagate(into request: inout UpstreamRequest) {
        tracer.inject(span.context, into: &request.headers, using: UpstreamHeadersInjector())
    }
}

/// One upstream attempt's client span; its context travels in the upstream request's headers.
struct AttemptSpan: Sendable {
    /// The span.
    let span: any Span
    /// The tracer that injects its context.
    let tracer: any Tracer

    /// Adds `traceparent` (and `tracestate`) to `request`.
    func inject(into request: inout UpstreamRequest) {
        tracer.inject(span.context, into: &request.headers, using: UpstreamHeadersInjector())
    }

    /// Ends the attempt: answered, or failed with `error` and what the gateway did next.
    func end(status: Int?, error: GatewayError?, next: String?) {
        span.updateAttributes { attributes in
            if let status { attributes["http.response.status_code"] = status }
            if let error { attributes["error.type"] = error.code ?? error.type }
            if let next { attributes["switchyard.attempt.next"] = next }
        }
        if let error { span.setStatus(SpanStatus(code: .error, message: error.message)) }
        span.end()
    }
}
