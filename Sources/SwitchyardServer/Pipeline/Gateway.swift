import HTTPTypes
import Logging
import NIOCore
import SwitchyardCore
import Synchronization

/// Everything a request needs, shared by all requests: configuration, adapters, the upstream
/// transport, metrics and the logger. A class: every request's closures and tasks hold it, and
/// sharing one reference costs one retain where copying the struct cost one per field.
public final class Gateway: Sendable {
    /// The configuration the gateway started with. The parts a reload or the admin API change
    /// (providers, routes, prices, keys) are read from `current` instead.
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
    /// Kept Responses answers.
    let responses: any ResponseStore
    /// What serving has taught the gateway about its providers.
    let learned = LearnedCapabilities()
    /// The spend ledger's writer, when a database is configured.
    public let ledger: SpendLedger?
    /// The models without a price already warned about (once each).
    private let warnedUnpriced = Mutex<Set<String>>([])
    /// The configuration last loaded, the keys stored in the database, and the live parts of both.
    private let live: Mutex<(loaded: GatewayConfig, stored: [GatewayKey], current: LiveConfiguration)>
    /// Signs cloud providers' requests (AWS) and fetches their access tokens (Google).
    let signer: UpstreamSigner
    /// Each provider's recent attempts, for the admin status.
    let providerStats = ProviderStats()
    /// The recent log lines the console shows, when kept.
    let recentLines: RecentLines?
    /// The tracer, when traces are exported.
    let tracing: GatewayTracing?
    /// The header naming the user (`RATE_LIMIT_USER_HEADER`), checked once rather than per request.
    private let userHeaderName: HTTPField.Name?

    /// Creates a gateway.
    public init(
        config: GatewayConfig,
        adapters: AdapterRegistry = .standard,
        transport: any UpstreamTransport,
        metrics: GatewayMetrics,
        logger: Logger,
        limiter: RateLimiter? = nil,
        responses: (any ResponseStore)? = nil,
        ledger: SpendLedger? = nil,
        recentLines: RecentLines? = nil,
        tracing: GatewayTracing? = nil
    ) {
        self.tracing = tracing
        self.ledger = ledger
        self.config = config
        self.userHeaderName = HTTPField.Name(config.rateLimit.userHeader)
        self.live = Mutex((config, [], LiveConfiguration(config, stored: [])))
        self.recentLines = recentLines
        self.adapters = adapters
        self.transport = transport
        self.signer = UpstreamSigner(transport: transport)
        self.metrics = metrics
        self.logger = logger
        self.readiness = Readiness()
        self.limiter = limiter
        self.responses =
            responses
            ?? InMemoryResponseStore(
                maxBytes: config.reliability.responseStoreBytes,
                maxAge: .milliseconds(Int64(config.reliability.responseStoreSeconds * 1000)))
        self.health = DeploymentHealth(
            threshold: config.reliability.breakerFailures, cooldownSeconds: config.reliability.breakerCooldownSeconds)
    }

    /// The live configuration new requests start with.
    public var current: LiveConfiguration { live.withLock { $0.current } }

    /// Makes `loaded` (a configuration file read again) current for new requests: its providers,
    /// routes, prices and keys. Other settings keep their running values; the report says which
    /// of them the file changes.
    public func reload(_ loaded: GatewayConfig) -> ReloadReport {
        live.withLock { live in
            live.loaded = loaded
            live.current = LiveConfiguration(loaded, stored: live.stored)
        }
        return ReloadReport(running: config, loaded: loaded)
    }

    /// Makes `stored` the keys from the database, for new requests.
    func install(stored: [GatewayKey]) {
        live.withLock { live in
            guard live.stored != stored else { return }
            live.stored = stored
            live.current = LiveConfiguration(live.loaded, stored: stored)
        }
    }

    /// Checks the client's gateway key when keys are configured; returns it (nil without keys).
    func authenticate(_ headers: HTTPFields, keyring: GatewayKeyring) throws(GatewayError) -> GatewayKey? {
        guard keyring.isEnabled else { return nil }
        let presented = GatewayKeyring.presentedKey(
            authorization: headers.value(of: .authorization), apiKeyHeader: headers.value(of: .apiKey))
        return try keyring.authenticate(presented)
    }

    /// What adapters may know of the client. With gateway keys the client's credential is the
    /// gateway key, which must never reach a provider, so nothing is passed through.
    /// An Anthropic client's `x-api-key` counts as its bearer token.
    func clientContext(_ headers: HTTPFields, requestID: String, keyring: GatewayKeyring) -> ClientContext {
        guard !keyring.isEnabled else { return ClientContext(authorization: nil, requestID: requestID) }
        let authorization = headers.value(of: .authorization) ?? headers.value(of: .apiKey).map { "Bearer \($0)" }
        return ClientContext(authorization: authorization, requestID: requestID)
    }

    /// The rate-limit user of `context`'s request (see `RateLimiter.user`), from the key and the
    /// user header `authenticate` found.
    func user(of context: RequestContext) -> String {
        RateLimiter.user(
            header: context.userHeader, keyName: context.key?.name,
            bearerToken: ClientContext.bearerToken(in: context.headers.value(of: .authorization)),
            address: context.channel.remoteAddress?.ipAddress)
    }

    /// The user header's value, when the request has one.
    func userHeader(_ headers: HTTPFields) -> String? {
        userHeaderName.flatMap { headers.value(of: $0) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Warns, once per model, that requests for it are served without a price.
    func warnUnpriced(provider: String, model: String) {
        let first = warnedUnpriced.withLock { $0.insert("\(provider)/\(model)").inserted }
        guard first else { return }
        logger.warning(
            "model has no price: its requests are counted in switchyard_unpriced_requests_total, not in dollars; add it to the config file's prices (or set REFUSE_UNPRICED=true)",
            metadata: ["provider": "\(provider)", "model": "\(model)"])
    }

    /// The adapter for a routed target, or 501 when this build has none for its kind.
    func adapter(for target: ModelRouter.Target) throws(GatewayError) -> any ProviderAdapter {
        guard let adapter = adapters.adapter(for: target) else {
            throw .providerNotSupported(target.endpoint.kind, model: target.requestedModel)
        }
        return adapter
    }

    /// One attempt at `request`: the time to the upstream's head is measured, a failure classified
    /// for retries, fallbacks and health. Not inlined into `dispatch`, whose frame would then hold
    /// this one's too.
    @inline(never)
    func attempt(
        _ request: UpstreamRequest, adapter: any ProviderAdapter, provider: ProviderID
    ) async throws(AttemptFailure) -> UpstreamResponse {
        let response: UpstreamResponse
        var signed = request
        if !signer.signNow(&signed) {
            do throws(GatewayError) {
                signed = try await signer.sign(request, provider: provider)
            } catch {
                throw AttemptFailure(error: error, outcome: .nextDeployment, deploymentHealthy: nil)
            }
        }
        let sent = NIODeadline.now()
        do {
            response = try await transport.execute(signed)
        } catch {
            throw transportFailure(error, provider: provider)
        }
        guard answered(response, sent: sent, provider: provider) else {
            throw await statusFailure(response, adapter: adapter, provider: provider)
        }
        return response
    }

    /// Records an upstream head that arrived `sent` after the request left; false when its status
    /// is a failure. The synchronous steps of `attempt` are kept out of it: an async function's
    /// frame holds what its inlined code stores, for the rest of the request's task.
    @inline(never)
    private func answered(_ response: UpstreamResponse, sent: NIODeadline, provider: ProviderID) -> Bool {
        let latency = NIODeadline.now() - sent
        metrics.upstreamLatency(provider: provider.rawValue, duration: latency)
        // A client's mistake (4xx but 429) is not the provider's failure.
        let failed = response.status >= 500 || response.status == 429
        providerStats.record(
            provider: provider.rawValue, seconds: failed ? nil : Double(latency.nanoseconds) / 1e9)
        return (200..<300).contains(response.status)
    }

    /// A transport failure, counted and classified for retries, fallbacks and health.
    @inline(never)
    private func transportFailure(_ error: TransportError, provider: ProviderID) -> AttemptFailure {
        if error.kind != .cancelled {
            metrics.upstreamError(provider: provider.rawValue, kind: error.kind.rawValue)
            providerStats.record(provider: provider.rawValue, seconds: nil)
        }
        let (outcome, healthy): (AttemptOutcome, Bool?) =
            switch error.kind {
            case .connect, .protocolViolation: (.retry, false)
            case .timeout: (.nextDeployment, false)
            case .cancelled: (.final, nil)
            }
        return AttemptFailure(
            error: error.gatewayError(provider: provider), outcome: outcome, deploymentHealthy: healthy)
    }

    /// An answer with a failing status, its body read for the provider's error, classified.
    @inline(never)
    private func statusFailure(
        _ response: UpstreamResponse, adapter: any ProviderAdapter, provider: ProviderID
    ) async -> AttemptFailure {
        metrics.upstreamError(provider: provider.rawValue, kind: "status")
        let body = (try? await response.collect(limit: 1 << 20)) ?? ByteBuffer()
        var error = adapter.upstreamError(status: response.status, body: body)
        if let retryAfter = response.header("retry-after") { error.headers["retry-after"] = retryAfter }
        let retryable = RetryPolicy.isRetryable(status: response.status)
        return AttemptFailure(
            error: error, outcome: retryable ? .retry : .final,
            deploymentHealthy: !(retryable && response.status != 429))
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
    func collect(_ response: UpstreamResponse, provider: ProviderID) async throws(GatewayError) -> ByteBuffer {
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

extension HTTPField.Name {
    /// `x-api-key`: Anthropic's credential header, also taken for gateway keys.
    static let apiKey = HTTPField.Name("x-api-key")!
}
