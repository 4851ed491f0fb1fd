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
        let routes = try buildRoutes(file?.routes ?? [], providers: providers) + Route.builtinTable

        var rateLimit = try buildRateLimit(values: values, file: file, providers: providers)
        rateLimit.spend = try buildSpendBudgets(file?.spendBudgets ?? [], providers: providers)

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
        config.spend = try buildSpend(values: values, file: file)
        config.tracing = try buildTracing(values: values)
        // Keys made through the admin API stand in for the file's: with provider keys on the
        // server, clients need one even before the first is made.
        if config.spend.storesKeys, !config.allowUnauthenticated, !config.providersWithServerKeys.isEmpty {
            config.keyring = config.keyring.adding([], required: true)
        }
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

    /// Checks that an entry's `name` is not empty and not taken by an earlier entry of its list.
    static func requireUniqueName(
        _ name: String, among names: inout Set<String>, at: String, of kind: String
    ) throws(ConfigError) {
        guard !name.isEmpty, names.insert(name).inserted else {
            throw ConfigError("\(at): every \(kind) needs a unique, non-empty name")
        }
    }
}
