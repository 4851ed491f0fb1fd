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
    /// Retries, circuit breaker and the concurrency limit.
    public var reliability = ReliabilitySettings()
    /// Log level name (trace … critical).
    public var logLevel: String
    /// `text` (one human-readable line per event) or `json` (one JSON object per line).
    public var logFormat: String = "text"
    /// Token rate limiting settings.
    public var rateLimit: RateLimitSettings
    /// Serve without gateway keys even though provider keys are configured server-side.
    public var allowUnauthenticated: Bool
    /// Gateway keys clients must present (none: no client authentication).
    public var keyring: GatewayKeyring
    /// TLS and client limits of the listener.
    public var listener: ListenerSettings
    /// The config file the values came from, if any.
    public var configFile: String?
    /// Prices, the ledger and the admin listener.
    public var spend = SpendSettings()
    /// OpenTelemetry trace export.
    public var tracing = TracingSettings()

    /// Creates a configuration; `ConfigLoader` is the usual way.
    public init(
        host: String = "0.0.0.0",
        proxyPort: Int = 8080,
        metricsPort: Int = 9090,
        router: ModelRouter,
        maxBodyBytes: Int = 10 * 1024 * 1024,
        shutdownGraceSeconds: Double = 30,
        logLevel: String = "info",
        rateLimit: RateLimitSettings = RateLimitSettings(),
        allowUnauthenticated: Bool = false,
        keyring: GatewayKeyring = GatewayKeyring(keys: []),
        listener: ListenerSettings = ListenerSettings(),
        configFile: String? = nil
    ) {
        self.host = host
        self.proxyPort = proxyPort
        self.metricsPort = metricsPort
        self.router = router
        self.maxBodyBytes = maxBodyBytes
        self.shutdownGraceSeconds = shutdownGraceSeconds
        self.logLevel = logLevel
        self.rateLimit = rateLimit
        self.allowUnauthenticated = allowUnauthenticated
        self.keyring = keyring
        self.listener = listener
        self.configFile = configFile
    }
}

extension GatewayConfig {
    /// Whether any budget is enforced: the global per-user one, a model or route budget, or a
    /// gateway key's own budget.
    public var isRateLimited: Bool {
        rateLimit.enabled || !rateLimit.budgets.isEmpty || !rateLimit.spend.isEmpty
            || keyring.keys.contains(where: \.isLimited)
    }

    /// Providers whose API key is configured server-side: anyone who reaches the gateway spends them.
    public var providersWithServerKeys: [ProviderID] {
        router.providers.values.filter { $0.apiKey != nil }.map(\.id).sorted { $0.rawValue < $1.rawValue }
    }

    /// The safe default: server-side provider keys without gateway keys are refused unless
    /// `ALLOW_UNAUTHENTICATED` says otherwise.
    /// - Throws: a `ConfigError` that says how to fix it.
    public func checkExposure() throws(ConfigError) {
        let exposed = providersWithServerKeys
        guard !exposed.isEmpty, !keyring.isEnabled, !allowUnauthenticated else { return }
        throw ConfigError(
            "provider keys are configured server-side (\(exposed.map(\.rawValue).joined(separator: ", "))) but no "
                + "gateway keys are: anyone who reaches the gateway would spend them. Declare gateway_keys in the "
                + "config file (see `switchyard hash-key`), or set ALLOW_UNAUTHENTICATED=true "
                + "(--allow-unauthenticated) to serve anyway.")
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
    /// Requests per user per window; nil means requests are not limited.
    public var maxRequests: Int?
    /// Completion tokens reserved for a request that states no `max_tokens`, capped so that a
    /// request alone never exceeds a budget by it; 0 reserves the prompt only.
    public var completionReserveTokens: Int = 0
    /// Model and route budgets from the config file (per user, on top of the global one).
    public var budgets: [ModelBudget] = []
    /// Dollar budgets (the config file's `budgets` and the keys' `budget_usd`).
    public var spend: [SpendBudget] = []
    /// Completion tokens a request that states no `max_tokens` reserves in dollar budgets, capped
    /// so that the request alone fits the smallest of them.
    public var budgetCompletionTokens = 1024
    /// Request header that names the user.
    public var userHeader: String = "user"
    /// Redis URL for shared state across instances; nil means in memory.
    public var redisURL: String?
    /// Pipelined connections to Redis.
    public var redisPoolSize: Int = 4
    /// How long one Redis command may take before the store counts as failed.
    public var redisTimeoutSeconds: Double = 0.5
    /// When the store (Redis) fails: serve anyway (true, the default) or answer 503.
    public var failOpen: Bool = true

    /// Creates settings with the contract's defaults.
    public init() {}

    /// Which budgets apply to a request.
    public var policy: RateLimitPolicy {
        RateLimitPolicy(
            windowSeconds: Double(windowMinutes) * 60,
            perUser: enabled ? BudgetLimits(tokens: maxTokens, requests: maxRequests) : nil, budgets: budgets,
            spend: spend)
    }
}
