import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import SwitchyardCore
import UnixSignals

/// The running gateway: the client-facing listener, the metrics listener and graceful shutdown,
/// as one `ServiceGroup`.
public struct GatewayServer: Sendable {
    /// The ports actually bound (useful when 0 was asked for).
    public struct BoundPorts: Sendable {
        /// Client-facing port.
        public var proxy: Int
        /// Metrics port.
        public var metrics: Int
        /// Admin port, when the admin listener is on.
        public var admin: Int?
    }

    /// The shared request state.
    public let gateway: Gateway

    /// Reads the configuration again on `SIGHUP` and `POST /admin/reload`, when the server has a
    /// way to load it.
    let reloader: ConfigReloader?

    /// Creates a server with the given transport (`NIOUpstreamTransport` when nil). `reload`
    /// loads the configuration again (as at start) for live reloads; `recentLines` holds the log
    /// lines the console shows.
    public init(
        config: GatewayConfig, logger: Logger, transport: (any UpstreamTransport)? = nil,
        recentLines: RecentLines? = nil, reload: (@Sendable () throws(ConfigError) -> GatewayConfig)? = nil
    ) {
        let metrics = GatewayMetrics()
        gateway = Gateway(
            config: config,
            transport: transport
                ?? NIOUpstreamTransport(
                    wholeBodyLimit: config.reliability.maxUpstreamAnswerBytes,
                    idleConnectionsPerKey: config.reliability.upstreamIdleConnections),
            metrics: metrics,
            logger: logger,
            limiter: Self.limiter(config, metrics: metrics, logger: logger),
            responses: Self.responseStore(config, logger: logger),
            ledger: config.spend.databaseURL.map {
                SpendLedger(
                    url: $0, capacity: config.spend.ledgerQueueRows, retentionDays: config.spend.retentionDays,
                    metrics: metrics, logger: logger)
            },
            recentLines: recentLines,
            tracing: Self.tracing(config, metrics: metrics, logger: logger)
        )
        reloader = reload.map { [gateway] in ConfigReloader(gateway: gateway, load: $0) }
    }

    /// The tracer the `OTEL_*` settings ask for; nil when tracing is off or its exporter cannot
    /// be made (said once, and the gateway serves untraced).
    static func tracing(_ config: GatewayConfig, metrics: GatewayMetrics, logger: Logger) -> GatewayTracing? {
        do {
            return try GatewayTracing.make(config.tracing, metrics: metrics, logger: logger)
        } catch {
            logger.error("tracing is off: the trace exporter could not be made", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Where kept Responses answers live: Redis when `REDIS_URL` is set, so every instance can
    /// continue every response; otherwise this process's memory.
    static func responseStore(_ config: GatewayConfig, logger: Logger) -> (any ResponseStore)? {
        guard let url = config.rateLimit.redisURL, let endpoint = try? RedisClient.Endpoint(url: url) else {
            return nil
        }
        return RedisResponseStore(
            client: RedisClient(
                endpoint: endpoint, poolSize: config.rateLimit.redisPoolSize,
                timeout: .interval(config.rateLimit.redisTimeoutSeconds)),
            maxAgeSeconds: max(1, Int(config.reliability.responseStoreSeconds.rounded(.up))), logger: logger)
    }

    /// The limiter the settings ask for: in memory, or in Redis when `REDIS_URL` is set; nil when
    /// no budget is configured and none can be (keys, which a reload or the admin API may give
    /// budgets, are not in use).
    static func limiter(_ config: GatewayConfig, metrics: GatewayMetrics, logger: Logger) -> RateLimiter? {
        guard config.isRateLimited || config.keyring.isEnabled || config.spend.storesKeys else { return nil }
        let settings = config.rateLimit
        let store: any RateLimitStore
        if let url = settings.redisURL, let endpoint = try? RedisClient.Endpoint(url: url) {
            store = RedisRateLimitStore(
                client: RedisClient(
                    endpoint: endpoint, poolSize: settings.redisPoolSize,
                    timeout: .interval(settings.redisTimeoutSeconds)))
        } else {
            store = InMemoryRateLimitStore()
        }
        let incident = StoreIncident(logger: logger, metrics: metrics, failOpen: settings.failOpen)
        return RateLimiter(
            policy: settings.policy, store: store, failOpen: settings.failOpen, onStoreResult: incident.record)
    }

    /// Runs until a shutdown signal (or cancellation), then drains in-flight requests for up to the
    /// configured grace period.
    /// - Parameters:
    ///   - signals: signals that start a graceful shutdown (none in tests, which cancel instead).
    ///   - onListening: called once both listeners are bound, with their ports.
    public func run(
        signals: [UnixSignal] = [.sigterm, .sigint],
        onListening: @escaping @Sendable (BoundPorts) async -> Void = { _ in }
    ) async throws {
        let config = gateway.config
        let ports = PortCollector(expectsAdmin: config.spend.adminPort != nil, onListening)
        let proxy = ClientListener(
            host: config.host, port: config.proxyPort, connections: try Self.proxyChannel(gateway),
            logger: gateway.logger, onBound: { port in await ports.set(proxy: port) })
        let metricsApp = Application(
            router: gateway.makeMetricsRouter(),
            configuration: .init(address: .hostname(config.host, port: config.metricsPort), serverName: "switchyard"),
            onServerRunning: { channel in await ports.set(metrics: channel.localAddress?.port ?? 0) },
            logger: gateway.logger
        )
        // Shut down in reverse order: the ledger last, after the listeners' requests wrote their rows.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let ledger = gateway.ledger { services.append(.init(service: ledger, successTerminationBehavior: .ignore)) }
        // Traces flush after the listeners' requests ended their spans.
        if let tracing = gateway.tracing {
            services.append(.init(service: tracing.service, successTerminationBehavior: .ignore))
        }
        var directory: KeyDirectory?
        if config.spend.storesKeys, let ledger = gateway.ledger {
            let keys = KeyDirectory(gateway: gateway, ledger: ledger, refreshSeconds: config.spend.keyRefreshSeconds)
            services.append(.init(service: keys, successTerminationBehavior: .ignore))
            directory = keys
        }
        if let reloader, signals.contains(.sigterm) {
            services.append(.init(service: ReloadOnHangup(reloader: reloader), successTerminationBehavior: .ignore))
        }
        if let port = config.spend.adminPort, let digest = config.spend.adminKeyDigest {
            let routes = AdminRoutes(gateway: gateway, keyDigest: digest, reloader: reloader, directory: directory)
            let admin = Application(
                router: routes.router(),
                server: try config.listener.tls.map { files in
                    try .tls(.http1(), tlsConfiguration: ListenerTLS.configuration(files))
                } ?? .http1(),
                configuration: .init(address: .hostname(config.host, port: port), serverName: "switchyard"),
                onServerRunning: { channel in await ports.set(admin: channel.localAddress?.port ?? 0) },
                logger: gateway.logger
            )
            services.append(.init(service: admin))
        }
        var groupConfig = ServiceGroupConfiguration(
            services: services + [
                .init(service: metricsApp),
                .init(service: proxy),
                .init(service: ReadinessService(readiness: gateway.readiness), successTerminationBehavior: .ignore),
            ],
            gracefulShutdownSignals: signals,
            logger: gateway.logger
        )
        groupConfig.maximumGracefulShutdownDuration = .milliseconds(Int64(config.shutdownGraceSeconds * 1000))
        groupConfig.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: groupConfig)
        do {
            try await group.run()
        } catch {
            try? await gateway.transport.shutdown()
            throw error
        }
        try await gateway.transport.shutdown()
    }
}

extension GatewayServer {
    /// Checks what `run` will need beyond the validated configuration (the TLS files hold a usable
    /// certificate and key), so `serve` can stop with one line before starting.
    public static func preflight(_ config: GatewayConfig) throws(ConfigError) {
        _ = try config.listener.tls.map { files throws(ConfigError) in try ListenerTLS.configuration(files) }
    }

    /// The client listener's connections: HTTP/1.1, with TLS when configured, each request run by
    /// `RequestLifecycle` on the connection's event loop.
    static func proxyChannel(_ gateway: Gateway) throws -> GatewayHTTPChannel {
        let listener = gateway.config.listener
        let tls = try listener.tls.map { files in try NIOSSLContext(configuration: ListenerTLS.configuration(files)) }
        return GatewayHTTPChannel(
            lifecycle: RequestLifecycle(gateway: gateway),
            limits: listener, bodyLimit: gateway.config.maxBodyBytes, registry: ConnectionRegistry(), tls: tls)
    }
}

/// Collects both bound ports and reports them once.
actor PortCollector {
    private var proxy: Int?
    private var metrics: Int?
    private var admin: Int?
    private let expectsAdmin: Bool
    private let onListening: @Sendable (GatewayServer.BoundPorts) async -> Void

    init(expectsAdmin: Bool, _ onListening: @escaping @Sendable (GatewayServer.BoundPorts) async -> Void) {
        self.expectsAdmin = expectsAdmin
        self.onListening = onListening
    }

    func set(admin port: Int) async {
        admin = port
        await report()
    }

    func set(proxy port: Int) async {
        proxy = port
        await report()
    }

    func set(metrics port: Int) async {
        metrics = port
        await report()
    }

    private func report() async {
        guard let proxy, let metrics, admin != nil || !expectsAdmin else { return }
        await onListening(.init(proxy: proxy, metrics: metrics, admin: admin))
    }
}
