/// The gateway's whole configuration: one immutable value, built and validated at start-up.
public struct GatewayConfig: Sendable {
    /// Address both listeners bind to.
    public var host: String
    /// Client-facing HTTP port.
    public var proxyPort: Int
    /// Prometheus `/metrics` port.
    public var metricsPort: Int
    /// Providers and routes.
    public var router: ModelRouter
    /// Largest request body accepted, in bytes.
    public var maxBodyBytes: Int
    /// How long in-flight requests may run on after SIGTERM/SIGINT, in seconds.
    public var shutdownGraceSeconds: Double
    /// Longest time to establish an upstream connection, in seconds.
    public var connectTimeoutSeconds: Double
    /// Log level name (trace … critical).
    public var logLevel: String
    /// Token rate limiting settings.
    public var rateLimit: RateLimitSettings
    /// Serve without gateway keys even though provider keys are configured server-side.
    public var allowUnauthenticated: Bool
    /// The config file the values came from, if any.
    public var configFile: String?

    /// Creates a configuration; `ConfigLoader` is the usual way.
    public init(
        host: String = "0.0.0.0",
        proxyPort: Int = 8080,
        metricsPort: Int = 9090,
        router: ModelRouter,
        maxBodyBytes: Int = 10 * 1024 * 1024,
        shutdownGraceSeconds: Double = 30,
        connectTimeoutSeconds: Double = 10,
        logLevel: String = "info",
        rateLimit: RateLimitSettings = RateLimitSettings(),
        allowUnauthenticated: Bool = false,
        configFile: String? = nil
    ) {
        self.host = host
        self.proxyPort = proxyPort
        self.metricsPort = metricsPort
        self.router = router
        self.maxBodyBytes = maxBodyBytes
        self.shutdownGraceSeconds = shutdownGraceSeconds
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.logLevel = logLevel
        self.rateLimit = rateLimit
        self.allowUnauthenticated = allowUnauthenticated
        self.configFile = configFile
    }
}

/// The per-user sliding-window token limit, as the contract names it.
public struct RateLimitSettings: Sendable, Equatable {
    /// Whether the limit is enforced.
    public var enabled: Bool = false
    /// Window length in minutes.
    public var windowMinutes: Int = 60
    /// Tokens (prompt + completion) per user per window.
    public var maxTokens: Int = 1000
    /// Request header that names the user.
    public var userHeader: String = "user"
    /// Redis URL for shared state across instances; nil means in memory.
    public var redisURL: String?

    /// Creates settings with the contract's defaults.
    public init() {}
}
