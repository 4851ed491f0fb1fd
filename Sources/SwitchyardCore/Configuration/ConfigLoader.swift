import Configuration
import Foundation

/// Builds the one `GatewayConfig` from command-line flags, the environment, the YAML file and the
/// built-in defaults, in that order of precedence, and validates every value.
public struct ConfigLoader: Sendable {
    /// Settings given as command-line flags, by lower-case setting name.
    public var flags: [SettingKey: String]
    /// The process environment (or a test's stand-in).
    public var environment: [String: String]
    /// A config file path given by flag; otherwise `SWITCHYARD_CONFIG` is consulted.
    public var configPath: String?

    /// Creates a loader.
    public init(flags: [SettingKey: String] = [:], environment: [String: String], configPath: String? = nil) {
        self.flags = flags
        self.environment = environment
        self.configPath = configPath
    }

    /// Loads and validates; every problem becomes a one-line `ConfigError`.
    public func load() throws(ConfigError) -> GatewayConfig {
        let path = configPath ?? environment["SWITCHYARD_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        let file = try path.map { p throws(ConfigError) in try ConfigFile.load(path: p) }
        let values = SettingValues(reader: reader(file: file))

        let providers = try buildProviders(values: values, file: file)
        let defaultProvider = ProviderID(rawValue: try values.string(.defaultProvider, default: "ollama"))
        guard providers[defaultProvider] != nil else {
            throw ConfigError("DEFAULT_PROVIDER: `\(defaultProvider)` is not a configured provider")
        }
        var routes: [Route] = []
        for (index, entry) in (file?.routes ?? []).enumerated() {
            let at = "config file: routes[\(index)]"
            guard !entry.match.isEmpty, entry.match.allSatisfy({ !$0.isEmpty }) else {
                throw ConfigError("\(at).match must list at least one non-empty pattern")
            }
            func deployment(_ d: ConfigFile.DeploymentEntry, _ place: String) throws(ConfigError) -> Deployment {
                guard providers[ProviderID(rawValue: d.provider)] != nil else {
                    throw ConfigError("\(place) names provider `\(d.provider)`, which is not declared")
                }
                guard (1...1_000_000).contains(d.weight ?? 1) else {
                    throw ConfigError("\(place).weight must be a whole number from 1 to 1000000")
                }
                return Deployment(provider: ProviderID(rawValue: d.provider), model: d.model, weight: d.weight ?? 1)
            }
            var deployments: [Deployment] = []
            if let provider = entry.provider {
                deployments.append(try deployment(.init(provider: provider, model: entry.model), at))
            }
            for (i, d) in entry.deployments.enumerated() {
                deployments.append(try deployment(d, "\(at).deployments[\(i)]"))
            }
            guard !deployments.isEmpty else {
                throw ConfigError("\(at) needs a `provider` or a `deployments` list")
            }
            var fallbacks: [Deployment] = []
            for (i, d) in entry.fallbacks.enumerated() {
                fallbacks.append(try deployment(d, "\(at).fallbacks[\(i)]"))
            }
            routes.append(
                Route(
                    patterns: entry.match.map(ModelPattern.init), deployments: deployments, fallbacks: fallbacks,
                    origin: .config))
        }
        routes += Route.builtinTable

        var rateLimit = RateLimitSettings()
        rateLimit.enabled = try values.bool(.enableRateLimiting, default: false)
        rateLimit.windowMinutes = try values.int(.rateLimitWindowMin, default: 60, range: 1...(60 * 24 * 31))
        rateLimit.maxTokens = try values.int(.maxTokens, default: 1000, range: 1...Int(Int32.max))
        rateLimit.maxRequests = try values.optionalInt(.maxRequests, range: 1...Int(Int32.max))
        rateLimit.completionReserveTokens = try values.int(
            .completionReserveTokens, default: 0, range: 0...Int(Int32.max))
        rateLimit.budgets = try buildBudgets(file?.budgets ?? [], providers: providers)
        rateLimit.userHeader = try values.string(.userHeader, default: "user").lowercased()
        rateLimit.redisURL = try values.optionalString(.redisURL)
        if let url = rateLimit.redisURL {
            let c = URLComponents(string: url)
            guard c?.scheme == "redis", !(c?.host ?? "").isEmpty,
                Int((c?.path ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "/"))) != nil
                    || (c?.path ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "/")).isEmpty
            else {
                throw ConfigError("REDIS_URL: `\(url)` must look like redis://[user:password@]host:port/db")
            }
        }
        switch try values.string(.rateLimitFailMode, default: "open").lowercased() {
        case "open": rateLimit.failOpen = true
        case "closed": rateLimit.failOpen = false
        case let other: throw ConfigError("RATE_LIMIT_FAIL_MODE: `\(other)` is not open or closed")
        }

        let logLevel = try values.string(.logLevel, default: "info").lowercased()
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        guard levels.contains(logLevel) else {
            throw ConfigError("LOG_LEVEL: `\(logLevel)` is not one of \(levels.joined(separator: ", "))")
        }

        let logFormat = try values.string(.logFormat, default: "text").lowercased()
        guard ["text", "json"].contains(logFormat) else {
            throw ConfigError("LOG_FORMAT: `\(logFormat)` is not text or json")
        }

        var config = GatewayConfig(
            host: try values.string(.host, default: "0.0.0.0"),
            proxyPort: try values.port(.proxyPort, default: 8080),
            metricsPort: try values.port(.metricsPort, default: 9090),
            router: ModelRouter(providers: providers, routes: routes, defaultProvider: defaultProvider),
            maxBodyBytes: try values.int(.maxBodyBytes, default: 10 * 1024 * 1024, range: 1024...(1 << 30)),
            shutdownGraceSeconds: try values.seconds(.shutdownGraceSeconds, default: 30),
            logLevel: logLevel,
            rateLimit: rateLimit,
            allowUnauthenticated: try values.bool(.allowUnauthenticated, default: false),
            keyring: try buildKeyring(file?.gatewayKeys ?? []),
            listener: try buildListener(values: values),
            configFile: path
        )
        config.logFormat = logFormat
        config.reliability = try buildReliability(values: values)
        return config
    }

    /// Flags, then environment, then file: swift-configuration answers from the first provider
    /// that has a value.
    func reader(file: ConfigFile?) -> ConfigReader {
        func memory(_ name: String, _ pairs: [String: String]) -> InMemoryProvider {
            var values: [AbsoluteConfigKey: ConfigValue] = [:]
            for (key, value) in pairs {
                values[AbsoluteConfigKey([key])] = ConfigValue(.string(value), isSecret: false)
            }
            return InMemoryProvider(name: name, values: values)
        }
        let flagPairs = Dictionary(uniqueKeysWithValues: flags.map { ($0.key.rawValue, $0.value) })
        return ConfigReader(providers: [
            memory("flags", flagPairs),
            EnvironmentVariablesProvider(environmentVariables: environment),
            memory("file", file?.settings ?? [:]),
        ])
    }

    func buildKeyring(_ entries: [ConfigFile.KeyEntry]) throws(ConfigError) -> GatewayKeyring {
        var keys: [GatewayKey] = []
        var names: Set<String> = []
        for (index, entry) in entries.enumerated() {
            let at = "config file: gateway_keys[\(index)] (`\(entry.name)`)"
            guard !entry.name.isEmpty, names.insert(entry.name).inserted else {
                throw ConfigError("\(at): every key needs a unique, non-empty name")
            }
            let digest: [UInt8]
            switch (entry.sha256, entry.keyEnv) {
            case (let hex?, nil):
                guard let bytes = Self.hexBytes(hex), bytes.count == 32 else {
                    throw ConfigError("\(at): sha256 must be 64 hex digits (print one with `switchyard hash-key`)")
                }
                digest = bytes
            case (nil, let env?):
                guard let secret = environment[env], !secret.isEmpty else {
                    throw ConfigError("\(at): key_env names \(env), which is not set")
                }
                digest = Hashing.sha256(Array(secret.utf8))
            default:
                throw ConfigError("\(at): give exactly one of sha256 and key_env")
            }
            var expires: Date?
            if let text = entry.expires {
                guard let date = Self.date(text) else {
                    throw ConfigError(
                        "\(at): expires `\(text)` is not an ISO 8601 date (2027-01-31 or 2027-01-31T12:00:00Z)")
                }
                expires = date
            }
            keys.append(
                GatewayKey(
                    name: entry.name, digest: digest, models: entry.models.map { $0.map(ModelPattern.init) },
                    expires: expires,
                    limits: try Self.limits(tokens: entry.maxTokens, requests: entry.maxRequests, at: at)))
        }
        return GatewayKeyring(keys: keys)
    }

    func buildListener(values: SettingValues) throws(ConfigError) -> ListenerSettings {
        var listener = ListenerSettings()
        switch (try values.optionalString(.tlsCertFile), try values.optionalString(.tlsKeyFile)) {
        case (nil, nil): break
        case (let cert?, let key?):
            for (setting, file) in [(SettingKey.tlsCertFile, cert), (.tlsKeyFile, key)]
            where !FileManager.default.isReadableFile(atPath: file) {
                throw ConfigError("\(setting.environmentName): `\(file)` cannot be read")
            }
            listener.tls = .init(certificateFile: cert, privateKeyFile: key)
        default: throw ConfigError("TLS_CERT_FILE and TLS_KEY_FILE must be set together")
        }
        listener.maxRequestLineBytes = try values.int(.maxRequestLineBytes, default: 8 * 1024, range: 256...(1 << 20))
        listener.maxHeaderBytes = try values.int(.maxHeaderBytes, default: 32 * 1024, range: 1024...(1 << 20))
        listener.maxHeaderCount = try values.int(.maxHeaderCount, default: 100, range: 8...10_000)
        listener.maxConnectionsPerAddress = try values.int(
            .maxConnectionsPerAddress, default: 1024, range: 0...1_000_000)
        listener.idleTimeoutSeconds = try values.seconds(.clientIdleTimeoutSeconds, default: 60)
        return listener
    }

    func buildBudgets(
        _ entries: [ConfigFile.BudgetEntry], providers: [ProviderID: ProviderEndpoint]
    ) throws(ConfigError) -> [ModelBudget] {
        var budgets: [ModelBudget] = []
        var names: Set<String> = []
        for (index, entry) in entries.enumerated() {
            let at = "config file: rate_limits[\(index)] (`\(entry.name)`)"
            guard !entry.name.isEmpty, names.insert(entry.name).inserted else {
                throw ConfigError("\(at): every budget needs a unique, non-empty name")
            }
            let limits = try Self.limits(tokens: entry.maxTokens, requests: entry.maxRequests, at: at)
            guard !limits.isEmpty else { throw ConfigError("\(at): give max_tokens, max_requests or both") }
            let provider = entry.provider.map(ProviderID.init(rawValue:))
            if let provider, providers[provider] == nil {
                throw ConfigError("\(at): provider `\(provider)` is not declared")
            }
            guard entry.match.allSatisfy({ !$0.isEmpty }) else {
                throw ConfigError("\(at): match patterns must not be empty")
            }
            budgets.append(
                ModelBudget(
                    name: entry.name, models: entry.match.map(ModelPattern.init), provider: provider, limits: limits))
        }
        return budgets
    }

    static func limits(tokens: Int?, requests: Int?, at: String) throws(ConfigError) -> BudgetLimits {
        for (name, value) in [("max_tokens", tokens), ("max_requests", requests)] {
            if let value, value < 1 { throw ConfigError("\(at): \(name) must be at least 1") }
        }
        return BudgetLimits(tokens: tokens, requests: requests)
    }

    static func hexBytes(_ hex: String) -> [UInt8]? {
        let chars = Array(hex.lowercased().utf8)
        guard chars.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: chars.count, by: 2) {
            guard let byte = UInt8(String(decoding: chars[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    static func date(_ text: String) -> Date? {
        let full = ISO8601DateFormatter()
        if let date = full.date(from: text) { return date }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        return day.date(from: text)
    }

    func buildReliability(values: SettingValues) throws(ConfigError) -> ReliabilitySettings {
        var reliability = ReliabilitySettings()
        reliability.maxRetries = try values.int(.upstreamMaxRetries, default: reliability.maxRetries, range: 0...10)
        reliability.retryBudgetSeconds = try values.seconds(
            .upstreamRetryBudgetSeconds, default: reliability.retryBudgetSeconds)
        reliability.breakerFailures = try values.int(
            .circuitBreakerFailures, default: reliability.breakerFailures, range: 1...1000)
        reliability.breakerCooldownSeconds = try values.seconds(
            .circuitBreakerCooldownSeconds, default: reliability.breakerCooldownSeconds)
        reliability.maxConcurrentRequests = try values.int(
            .maxConcurrentRequests, default: reliability.maxConcurrentRequests, range: 0...1_000_000)
        return reliability
    }

    func buildProviders(values: SettingValues, file: ConfigFile?) throws(ConfigError) -> [ProviderID: ProviderEndpoint]
    {
        let timeouts = UpstreamTimeouts(
            connectSeconds: try values.seconds(.connectTimeoutSeconds, default: 10),
            firstByteSeconds: try values.optionalSeconds(.upstreamFirstByteTimeoutSeconds),
            idleSeconds: try values.optionalSeconds(.upstreamIdleTimeoutSeconds),
            totalSeconds: try values.seconds(.upstreamTimeoutSeconds, default: 600))
        func builtin(
            _ kind: ProviderKind,
            domain: SettingKey,
            defaultDomain: String,
            port: SettingKey,
            defaultPort: Int,
            tls: SettingKey,
            defaultTLS: Bool,
            key: SettingKey?,
            prefix: String
        ) throws(ConfigError) -> ProviderEndpoint {
            let apiKey = try key.flatMap { k throws(ConfigError) in try values.optionalString(k) }
            return ProviderEndpoint(
                id: ProviderID(rawValue: kind.rawValue),
                kind: kind,
                baseURL: UpstreamBaseURL(
                    tls: try values.bool(tls, default: defaultTLS),
                    host: try values.string(domain, default: defaultDomain),
                    port: try values.port(port, default: defaultPort),
                    pathPrefix: prefix
                ),
                apiKey: apiKey.map(Secret.init),
                apiKeySource: apiKey == nil ? nil : key?.environmentName,
                timeouts: timeouts
            )
        }
        let list = [
            try builtin(
                .openai, domain: .openaiDomain, defaultDomain: "api.openai.com", port: .openaiPort, defaultPort: 443,
                tls: .openaiTLS, defaultTLS: true, key: .openaiAPIKey, prefix: "/v1"),
            try builtin(
                .gemini, domain: .geminiDomain, defaultDomain: "generativelanguage.googleapis.com", port: .geminiPort,
                defaultPort: 443, tls: .geminiTLS, defaultTLS: true, key: .geminiAPIKey, prefix: ""),
            try builtin(
                .anthropic, domain: .anthropicDomain, defaultDomain: "api.anthropic.com", port: .anthropicPort,
                defaultPort: 443, tls: .anthropicTLS, defaultTLS: true, key: .anthropicAPIKey, prefix: ""),
            try builtin(
                .ollama, domain: .ollamaDomain, defaultDomain: "localhost", port: .ollamaPort, defaultPort: 11434,
                tls: .ollamaTLS, defaultTLS: false, key: nil, prefix: ""),
        ]
        var providers = Dictionary(uniqueKeysWithValues: list.map { ($0.id, $0) })
        var declared: Set<String> = []
        for (index, p) in (file?.providers ?? []).enumerated() {
            let at = "config file: providers[\(index)] (`\(p.name)`)"
            guard !p.name.isEmpty, !p.name.contains("/") else {
                throw ConfigError("\(at): `name` must be non-empty and contain no `/`")
            }
            guard declared.insert(p.name).inserted else { throw ConfigError("\(at): declared twice") }
            guard let kind = ProviderKind(rawValue: p.kind) else {
                let kinds = ProviderKind.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigError("\(at): unknown provider kind `\(p.kind)` (expected one of \(kinds))")
            }
            guard let base = UpstreamBaseURL(parsing: p.baseURL) else {
                throw ConfigError("\(at): base_url `\(p.baseURL)` is not an http(s) URL")
            }
            var apiKey: Secret?
            if let env = p.apiKeyEnv {
                guard let value = environment[env], !value.isEmpty else {
                    throw ConfigError("\(at): api_key_env names \(env), which is not set")
                }
                apiKey = Secret(value)
            }
            for (name, value) in [
                ("timeout_seconds", p.timeoutSeconds), ("connect_timeout_seconds", p.connectTimeoutSeconds),
                ("first_byte_timeout_seconds", p.firstByteTimeoutSeconds),
                ("idle_timeout_seconds", p.idleTimeoutSeconds),
            ] {
                if let value, !(value > 0 && value.isFinite) { throw ConfigError("\(at): \(name) must be positive") }
            }
            let total = p.timeoutSeconds ?? timeouts.totalSeconds
            providers[ProviderID(rawValue: p.name)] = ProviderEndpoint(
                id: ProviderID(rawValue: p.name),
                kind: kind,
                baseURL: base,
                apiKey: apiKey,
                apiKeySource: p.apiKeyEnv,
                timeouts: UpstreamTimeouts(
                    connectSeconds: p.connectTimeoutSeconds ?? timeouts.connectSeconds,
                    firstByteSeconds: min(p.firstByteTimeoutSeconds ?? timeouts.firstByteSeconds, total),
                    idleSeconds: min(p.idleTimeoutSeconds ?? timeouts.idleSeconds, total),
                    totalSeconds: total)
            )
        }
        return providers
    }
}

/// Typed, validated reads of scalar settings; every failure names the setting.
struct SettingValues {
    let reader: ConfigReader

    func optionalString(_ key: SettingKey) throws(ConfigError) -> String? {
        let value = reader.string(forKey: ConfigKey([key.rawValue]), isSecret: key.isSecret)
        guard let value, !value.isEmpty else { return nil }
        return value
    }

    func string(_ key: SettingKey, default fallback: String) throws(ConfigError) -> String {
        try optionalString(key) ?? fallback
    }

    func bool(_ key: SettingKey, default fallback: Bool) throws(ConfigError) -> Bool {
        guard let raw = try optionalString(key) else { return fallback }
        switch raw.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigError("\(key.environmentName): `\(raw)` is not a boolean (true or false)")
        }
    }

    func int(_ key: SettingKey, default fallback: Int, range: ClosedRange<Int>) throws(ConfigError) -> Int {
        try optionalInt(key, range: range) ?? fallback
    }

    func optionalInt(_ key: SettingKey, range: ClosedRange<Int>) throws(ConfigError) -> Int? {
        guard let raw = try optionalString(key) else { return nil }
        guard let value = Int(raw.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw ConfigError(
                "\(key.environmentName): `\(raw)` is not a whole number from \(range.lowerBound) to \(range.upperBound)"
            )
        }
        return value
    }

    func port(_ key: SettingKey, default fallback: Int) throws(ConfigError) -> Int {
        guard let raw = try optionalString(key) else { return fallback }
        guard let value = Int(raw.trimmingCharacters(in: .whitespaces)), (0...65535).contains(value) else {
            throw ConfigError("\(key.environmentName): `\(raw)` is not a port number (0-65535)")
        }
        return value
    }

    func seconds(_ key: SettingKey, default fallback: Double) throws(ConfigError) -> Double {
        try optionalSeconds(key) ?? fallback
    }

    func optionalSeconds(_ key: SettingKey) throws(ConfigError) -> Double? {
        guard let raw = try optionalString(key) else { return nil }
        guard let value = Double(raw.trimmingCharacters(in: .whitespaces)), value > 0, value.isFinite else {
            throw ConfigError("\(key.environmentName): `\(raw)` is not a positive number of seconds")
        }
        return value
    }
}
