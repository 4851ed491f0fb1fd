import Foundation

extension ConfigLoader {
    /// The per-user limit, the config file's budgets and the store that holds them.
    func buildRateLimit(
        values: SettingValues, file: ConfigFile?, providers: [ProviderID: ProviderEndpoint]
    ) throws(ConfigError) -> RateLimitSettings {
        var rateLimit = RateLimitSettings()
        rateLimit.enabled = try values.bool(.enableRateLimiting, default: false)
        rateLimit.windowMinutes = try values.int(.rateLimitWindowMin, default: 60, range: 1...(60 * 24 * 31))
        rateLimit.maxTokens = try values.int(.maxTokens, default: 1000, range: 1...Int(Int32.max))
        rateLimit.maxRequests = try values.optionalInt(.maxRequests, range: 1...Int(Int32.max))
        rateLimit.completionReserveTokens = try values.int(
            .completionReserveTokens, default: 0, range: 0...Int(Int32.max))
        rateLimit.budgetCompletionTokens = try values.int(
            .budgetCompletionTokens, default: rateLimit.budgetCompletionTokens, range: 0...Int(Int32.max))
        rateLimit.budgets = try buildBudgets(file?.budgets ?? [], providers: providers)
        rateLimit.userHeader = try values.string(.userHeader, default: "user").lowercased()
        rateLimit.redisURL = try values.optionalString(.redisURL)
        rateLimit.redisPoolSize = try values.int(.redisPoolSize, default: rateLimit.redisPoolSize, range: 1...256)
        rateLimit.redisTimeoutSeconds = try values.seconds(.redisTimeoutSeconds, default: rateLimit.redisTimeoutSeconds)
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

        return rateLimit
    }

    func buildBudgets(
        _ entries: [ConfigFile.BudgetEntry], providers: [ProviderID: ProviderEndpoint]
    ) throws(ConfigError) -> [ModelBudget] {
        var budgets: [ModelBudget] = []
        var names: Set<String> = []
        for (index, entry) in entries.enumerated() {
            let at = "config file: rate_limits[\(index)] (`\(entry.name)`)"
            try Self.requireUniqueName(entry.name, among: &names, at: at, of: "budget")
            let limits = try Self.limits(tokens: entry.maxTokens, requests: entry.maxRequests, at: at)
            guard !limits.isEmpty else { throw ConfigError("\(at): give max_tokens, max_requests or both") }
            let (models, provider) = try Self.coverage(
                match: entry.match, provider: entry.provider, providers: providers, at: at)
            budgets.append(ModelBudget(name: entry.name, models: models, provider: provider, limits: limits))
        }
        return budgets
    }

    /// What a budget covers: its model patterns (none may be empty) and its provider (which must be
    /// declared).
    static func coverage(
        match: [String], provider name: String?, providers: [ProviderID: ProviderEndpoint], at: String
    ) throws(ConfigError) -> ([ModelPattern], ProviderID?) {
        let provider = name.map(ProviderID.init(rawValue:))
        if let provider, providers[provider] == nil {
            throw ConfigError("\(at): provider `\(provider)` is not declared")
        }
        guard match.allSatisfy({ !$0.isEmpty }) else { throw ConfigError("\(at): match patterns must not be empty") }
        return (match.map(ModelPattern.init), provider)
    }

    static func limits(tokens: Int?, requests: Int?, at: String) throws(ConfigError) -> BudgetLimits {
        for (name, value) in [("max_tokens", tokens), ("max_requests", requests)] {
            if let value, value < 1 { throw ConfigError("\(at): \(name) must be at least 1") }
        }
        return BudgetLimits(tokens: tokens, requests: requests)
    }
}
