import SwitchyardCore

/// The parts of the configuration that change while the gateway runs: providers and routes,
/// prices, and gateway keys (the config file's and those made through the admin API). A request
/// takes the one current when it starts and keeps it to its end, so a reload never changes a
/// request half-way.
public final class LiveConfiguration: Sendable {
    /// Providers and routes.
    public let router: ModelRouter
    /// The gateway keys clients present.
    public let keyring: GatewayKeyring
    /// Model prices.
    public let prices: PriceTable

    /// The live parts of `config`, its keyring joined by `stored` (the keys made through the admin API).
    init(_ config: GatewayConfig, stored: [GatewayKey]) {
        router = config.router
        keyring = config.keyring.adding(stored, required: config.keyring.required)
        prices = config.spend.prices
    }
}

/// What a reload did: the sections it applied, and those the new file changes that only a restart
/// applies (listeners, budgets, stores).
public struct ReloadReport: Sendable, Equatable {
    /// Sections applied at once.
    public var applied: [String]
    /// Sections the new file changes that keep their running values until a restart.
    public var needRestart: [String]

    /// The report of replacing `running` with `loaded`.
    init(running: GatewayConfig, loaded: GatewayConfig) {
        applied = ["providers", "routes", "prices", "gateway_keys"]
        var needRestart: [String] = []
        if running.rateLimit != loaded.rateLimit { needRestart.append("rate limits and budgets") }
        if running.reliability != loaded.reliability { needRestart.append("reliability settings") }
        if running.listener != loaded.listener || running.host != loaded.host || running.proxyPort != loaded.proxyPort
            || running.metricsPort != loaded.metricsPort || running.maxBodyBytes != loaded.maxBodyBytes
        {
            needRestart.append("listener settings")
        }
        var spend = loaded.spend
        spend.prices = running.spend.prices
        if spend != running.spend { needRestart.append("database and admin settings") }
        if running.logLevel != loaded.logLevel || running.logFormat != loaded.logFormat {
            needRestart.append("logging settings")
        }
        self.needRestart = needRestart
    }

    /// The report as JSON.
    var json: JSONValue {
        [
            "object": "reload", "applied": .array(applied.map(JSONValue.string)),
            "need_restart": .array(needRestart.map(JSONValue.string)),
        ]
    }
}
