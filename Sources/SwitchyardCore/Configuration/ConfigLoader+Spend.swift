import Foundation

extension ConfigLoader {
    /// Prices, the unpriced-model rule, the ledger's database and the admin listener.
    func buildSpend(values: SettingValues, file: ConfigFile?) throws(ConfigError) -> SpendSettings {
        var spend = SpendSettings()
        spend.prices = try PriceTable.builtIn().merging(file?.prices ?? [])
        for (index, entry) in (file?.prices ?? []).enumerated() {
            let at = "config file: prices[\(index)] (`\(entry.provider)/\(entry.model)`)"
            let rates =
                [entry.input] + [entry.output, entry.cachedInput, entry.cacheWrite, entry.reasoning].compactMap { $0 }
            guard rates.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
                throw ConfigError("\(at): prices must be dollars per million tokens, 0 or more")
            }
        }
        spend.refuseUnpriced = try values.bool(.refuseUnpriced, default: false)
        let database = try values.string(.databaseURL, default: "sqlite:switchyard.sqlite")
        guard
            database == "none" || database.hasPrefix("sqlite:") || database.hasPrefix("postgres://")
                || database.hasPrefix("postgresql://")
        else {
            throw ConfigError("DATABASE_URL: must be sqlite:PATH, postgres://user:pass@host:port/db or none")
        }
        spend.databaseURL = database == "none" ? nil : database
        spend.retentionDays = try values.int(.spendRetentionDays, default: 90, range: 1...36_500)
        spend.ledgerQueueRows = try values.int(.ledgerQueueRows, default: 100_000, range: 1...10_000_000)
        spend.adminPort = try values.optionalInt(.adminPort, range: 1...65_535)
        spend.adminKeyDigest = try Self.adminKeyDigest(try values.optionalString(.adminKey))
        spend.keyRefreshSeconds = try values.seconds(.keyRefreshSeconds, default: 2)
        if spend.adminPort != nil, spend.adminKeyDigest == nil {
            throw ConfigError("ADMIN_PORT is set but ADMIN_KEY is not: the admin listener needs an admin key")
        }
        return spend
    }

    /// The admin key's SHA-256: `ADMIN_KEY` is the key itself, or `sha256:<64 hex digits>` (see
    /// `switchyard hash-key`) so the key need not be stored anywhere.
    static func adminKeyDigest(_ value: String?) throws(ConfigError) -> [UInt8]? {
        guard let value, !value.isEmpty else { return nil }
        guard value.hasPrefix("sha256:") else { return Hashing.sha256(Array(value.utf8)) }
        guard let digest = hexBytes(String(value.dropFirst("sha256:".count))), digest.count == 32 else {
            throw ConfigError(
                "ADMIN_KEY: sha256: must be followed by 64 hex digits (print them with `switchyard hash-key`)")
        }
        return digest
    }

    /// The dollar budgets of the file's `budgets` list (a key's `budget_usd` is the key's own).
    func buildSpendBudgets(
        _ entries: [ConfigFile.SpendBudgetEntry], providers: [ProviderID: ProviderEndpoint]
    ) throws(ConfigError) -> [SpendBudget] {
        var budgets: [SpendBudget] = []
        var names: Set<String> = []
        for (index, entry) in entries.enumerated() {
            let at = "config file: budgets[\(index)] (`\(entry.name)`)"
            try Self.requireUniqueName(entry.name, among: &names, at: at, of: "budget")
            let scopes = [entry.key, entry.team, entry.user].compactMap { $0 }
            guard scopes.count <= 1 else { throw ConfigError("\(at): give at most one of key, team and user") }
            func name(_ value: String) -> String? { value == "*" ? nil : value }
            let scope: SpendBudget.Scope =
                if let key = entry.key { .key(name(key)) } else if let team = entry.team {
                    .team(name(team))
                } else if let user = entry.user {
                    .user(name(user))
                } else { .everyone }
            let (models, provider) = try Self.coverage(
                match: entry.match, provider: entry.provider, providers: providers, at: at)
            budgets.append(
                SpendBudget(
                    name: entry.name, scope: scope, models: models, provider: provider,
                    nanodollars: try Self.nanodollars(entry.usd, at: at),
                    period: try Self.period(entry.period, windowMinutes: entry.windowMinutes, at: at)))
        }
        return budgets
    }

    /// A budget's dollars, which must be positive.
    static func nanodollars(_ usd: Double, at: String) throws(ConfigError) -> Int {
        guard usd > 0, usd < 1_000_000_000 else { throw ConfigError("\(at): usd must be more than 0") }
        return SpendBudget.nanodollars(usd: usd)
    }

    /// A budget's period: a sliding window of minutes, a day, or (the default) the calendar month.
    static func period(_ name: String?, windowMinutes: Int?, at: String) throws(ConfigError) -> SlidingWindow.Period {
        if let windowMinutes {
            guard name == nil else { throw ConfigError("\(at): give period or window_minutes, not both") }
            guard (1...(60 * 24 * 366)).contains(windowMinutes) else {
                throw ConfigError("\(at): window_minutes must be between 1 and 527040")
            }
            return .sliding(seconds: Double(windowMinutes) * 60)
        }
        switch name ?? "month" {
        case "month": return .calendarMonth
        case "day": return .sliding(seconds: 86_400)
        case let other: throw ConfigError("\(at): period `\(other)` is not month or day")
        }
    }
}
