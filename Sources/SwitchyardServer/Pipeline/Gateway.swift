import HTTPTypes
import Hummingbird
import Logging
import SwitchyardCore

/// Everything a request needs, shared by all requests: configuration, adapters, the upstream
/// transport, metrics and the logger. A class: every request's closures and tasks hold it, and
/// sharing one reference costs one retain where copying the struct cost one per field.
public final class Gateway: Sendable {
    /// The validated configuration.
    public let config: GatewayConfig
    /// Adapters by provider kind.
    public let adapters: AdapterRegistry
    /// Where upstream requests go.
    public let transport: any UpstreamTransport
    /// Metrics registry and recorders.
    public let metrics: GatewayMetrics
    /// The gateway's logger.
    public let logger: Logger
    /// Flipped to false when graceful shutdown starts, so `/ready` turns 503.
    let readiness: Readiness
    /// The budgets, when any are configured.
    public let limiter: RateLimiter?
    /// Circuit breakers per deployment.
    let health: DeploymentHealth

    /// Creates a gateway.
    public init(
        config: GatewayConfig,
        adapters: AdapterRegistry = .standard,
        transport: any UpstreamTransport,
        metrics: GatewayMetrics,
        logger: Logger,
        limiter: RateLimiter? = nil
    ) {
        self.config = config
        self.adapters = adapters
        self.transport = transport
        self.metrics = metrics
        self.logger = logger
        self.readiness = Readiness()
        self.limiter = limiter
        self.health = DeploymentHealth(
            threshold: config.reliability.breakerFailures, cooldownSeconds: config.reliability.breakerCooldownSeconds)
    }

    /// Checks the client's gateway key when keys are configured; returns it (nil without keys).
    func authenticate(_ request: Request) throws(GatewayError) -> GatewayKey? {
        guard config.keyring.isEnabled else { return nil }
        let presented = GatewayKeyring.presentedKey(
            authorization: request.headers[.authorization], apiKeyHeader: request.headers[HTTPField.Name("x-api-key")!])
        return try config.keyring.authenticate(presented)
    }

    /// What adapters may know of the client. With gateway keys the client's credential is the
    /// gateway key, which must never reach a provider, so nothing is passed through.
    func clientContext(_ request: Request, _ context: GatewayRequestContext) -> ClientContext {
        ClientContext(
            authorization: config.keyring.isEnabled ? nil : request.headers[.authorization],
            requestID: context.requestID)
    }

    /// The rate-limit user of a request (see `RateLimiter.user`).
    func user(_ request: Request, _ context: GatewayRequestContext, key: GatewayKey?) -> String {
        let userHeader = HTTPField.Name(config.rateLimit.userHeader).flatMap { request.headers[$0] }
        return RateLimiter.user(
            header: userHeader, keyName: key?.name,
            bearerToken: ClientContext.bearerToken(in: request.headers[.authorization]),
            address: context.channel.remoteAddress?.ipAddress)
    }

    /// The adapter for a routed target, or 501 when this build has none for its kind.
    func adapter(for target: ModelRouter.Target) throws(GatewayError) -> any ProviderAdapter {
        guard let adapter = adapters.adapter(for: target.endpoint.kind) else {
            throw .providerNotSupported(target.endpoint.kind, model: target.requestedModel)
        }
        return adapter
    }

    /// Sends `request` upstream once; on failure counts it and answers with the client-facing error.
    /// A non-2xx answer is read (bounded) and reshaped by the adapter. `trace` times the upstream.
    func send(
        _ request: UpstreamRequest,
        adapter: any ProviderAdapter,
        provider: ProviderID,
        trace: RequestTrace? = nil
    ) async throws(GatewayError) -> UpstreamResponse {
        do {
            return try await attempt(request, adapter: adapter, provider: provider, trace: trace)
        } catch {
            throw error.error
        }
    }

    /// One attempt at `request`, its failure classified for retries, fallbacks and health.
    func attempt(
        _ request: UpstreamRequest,
        adapter: any ProviderAdapter,
        provider: ProviderID,
        trace: RequestTrace?
    ) async throws(AttemptFailure) -> UpstreamResponse {
        let response: UpstreamResponse
        trace?.upstreamSent()
        do {
            response = try await transport.execute(request)
            trace?.upstreamResponded()
        } catch {
            if error.kind != .cancelled {
                metrics.upstreamError(provider: provider.rawValue, kind: error.kind.rawValue)
            }
            let (outcome, healthy): (AttemptOutcome, Bool?) =
                switch error.kind {
                case .connect, .protocolViolation: (.retry, false)
                case .timeout: (.nextDeployment, false)
                case .cancelled: (.final, nil)
                }
            throw AttemptFailure(
                error: error.gatewayError(provider: provider), outcome: outcome, deploymentHealthy: healthy)
        }
        guard (200..<300).contains(response.status) else {
            metrics.upstreamError(provider: provider.rawValue, kind: "status")
            let body = (try? await response.collect(limit: 1 << 20)) ?? ByteBuffer()
            var error = adapter.upstreamError(status: response.status, body: body)
            if let retryAfter = response.header("retry-after") { error.headers["retry-after"] = retryAfter }
            let retryable = RetryPolicy.isRetryable(status: response.status)
            throw AttemptFailure(
                error: error, outcome: retryable ? .retry : .final,
                deploymentHealthy: !(retryable && response.status != 429))
        }
        return response
    }

    /// Runs an adapter's conversion of an upstream answer, counting a failure as a decode error.
    func decode<T>(provider: ProviderID, _ convert: () throws(GatewayError) -> T) throws(GatewayError) -> T {
        do {
            return try convert()
        } catch {
            metrics.upstreamError(provider: provider.rawValue, kind: "decode")
            throw error
        }
    }

    /// Reads a whole successful upstream body (bounded), counting failures.
    func collect(
        _ response: UpstreamResponse, provider: ProviderID, trace: RequestTrace? = nil
    ) async throws(GatewayError) -> ByteBuffer {
        defer { trace?.upstreamEnded() }
        do {
            return try await response.collect(limit: config.reliability.maxUpstreamAnswerBytes)
        } catch {
            if error.kind != .cancelled {
                metrics.upstreamError(provider: provider.rawValue, kind: error.kind.rawValue)
            }
            throw error.gatewayError(provider: provider)
        }
    }
}
