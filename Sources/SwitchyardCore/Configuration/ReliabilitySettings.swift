/// How the gateway absorbs failing providers and protects itself: retries, the circuit
/// breaker and the concurrency limit. Per-provider timeouts live on each `ProviderEndpoint`.
public struct ReliabilitySettings: Sendable, Equatable {
    /// Extra attempts per deployment after a retryable failure (connect error, 429, 500, 502, 503, 504).
    public var maxRetries: Int = 2
    /// The longest the gateway spends retrying and falling back for one request, waits included.
    public var retryBudgetSeconds: Double = 30
    /// Consecutive failures that take a deployment out of rotation.
    public var breakerFailures: Int = 5
    /// How long a deployment stays out before one trial request may use it again.
    public var breakerCooldownSeconds: Double = 30
    /// Requests handled at once before new ones are refused with 503 (0: no limit).
    public var maxConcurrentRequests: Int = 4096
    /// Idle keep-alive connections kept per provider address and event loop; more are closed.
    public var upstreamIdleConnections: Int = 512
    /// The largest upstream answer read whole (a non-streamed answer); a larger one is a 502.
    public var maxUpstreamAnswerBytes: Int = 64 << 20
    /// The most bytes of kept Responses answers held in memory (without Redis); the oldest go first.
    public var responseStoreBytes: Int = 64 << 20
    /// How long a kept Responses answer can be continued or read.
    public var responseStoreSeconds: Double = 86_400

    /// The defaults.
    public init() {}
}
