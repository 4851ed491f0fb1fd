/// Every scalar setting, by its lower-case name. The environment variable is the upper-case
/// form (`proxy_port` -> `PROXY_PORT`); the config file uses the lower-case form.
public enum SettingKey: String, CaseIterable, Sendable {
    case host
    case proxyPort = "proxy_port"
    case metricsPort = "metrics_port"
    case openaiDomain = "openai_domain"
    case openaiPort = "openai_port"
    case openaiTLS = "openai_tls"
    case openaiAPIKey = "openai_api_key"
    case geminiDomain = "gemini_domain"
    case geminiPort = "gemini_port"
    case geminiTLS = "gemini_tls"
    case geminiAPIKey = "gemini_api_key"
    case ollamaDomain = "ollama_domain"
    case ollamaPort = "ollama_port"
    case ollamaTLS = "ollama_tls"
    case anthropicDomain = "anthropic_domain"
    case anthropicPort = "anthropic_port"
    case anthropicTLS = "anthropic_tls"
    case anthropicAPIKey = "anthropic_api_key"
    case enableRateLimiting = "enable_rate_limiting"
    case rateLimitWindowMin = "rate_limit_window_min"
    case maxTokens = "max_tokens"
    case maxRequests = "max_requests"
    case completionReserveTokens = "completion_reserve_tokens"
    case userHeader = "user_header"
    case redisURL = "redis_url"
    case rateLimitFailMode = "rate_limit_fail_mode"
    case logLevel = "log_level"
    case logFormat = "log_format"
    case allowUnauthenticated = "allow_unauthenticated"
    case maxBodyBytes = "max_body_bytes"
    case shutdownGraceSeconds = "shutdown_grace_seconds"
    case upstreamTimeoutSeconds = "upstream_timeout_seconds"
    case connectTimeoutSeconds = "connect_timeout_seconds"
    case upstreamFirstByteTimeoutSeconds = "upstream_first_byte_timeout_seconds"
    case upstreamIdleTimeoutSeconds = "upstream_idle_timeout_seconds"
    case upstreamMaxRetries = "upstream_max_retries"
    case upstreamRetryBudgetSeconds = "upstream_retry_budget_seconds"
    case circuitBreakerFailures = "circuit_breaker_failures"
    case circuitBreakerCooldownSeconds = "circuit_breaker_cooldown_seconds"
    case maxConcurrentRequests = "max_concurrent_requests"
    case defaultProvider = "default_provider"
    case tlsCertFile = "tls_cert_file"
    case tlsKeyFile = "tls_key_file"
    case maxRequestLineBytes = "max_request_line_bytes"
    case maxHeaderBytes = "max_header_bytes"
    case maxHeaderCount = "max_header_count"
    case maxConnectionsPerAddress = "max_connections_per_address"
    case clientIdleTimeoutSeconds = "client_idle_timeout_seconds"

    /// The environment variable name.
    public var environmentName: String { rawValue.uppercased() }

    /// Whether the value is a credential (never printed).
    public var isSecret: Bool { rawValue.hasSuffix("_api_key") }
}
