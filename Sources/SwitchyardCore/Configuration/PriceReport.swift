/// The prices `check-config` prints: the price each route's deployments are charged at, the dollar
/// budgets, and the whole price table with each price's source and date.
public struct PriceReport: Sendable {
    /// The configuration to describe.
    public let config: GatewayConfig

    /// Creates a report.
    public init(config: GatewayConfig) { self.config = config }

    /// The report text.
    public var text: String {
        var lines = ["prices (US dollars per million tokens):"]
        let routes =
            config.router.routes.filter { $0.origin == .config } + config.router.routes.filter { $0.origin == .builtin }
        for route in routes {
            let patterns = route.patterns.map(\.text).joined(separator: ", ")
            for deployment in route.deployments + route.fallbacks {
                lines.append("  \(patterns) -> \(deployment.provider): \(describe(deployment))")
            }
        }
        let fallback = Deployment(provider: config.router.defaultProvider, model: nil)
        lines.append("  anything else -> \(config.router.defaultProvider): \(describe(fallback))")
        let budgets = config.rateLimit.spend + config.keyring.keys.compactMap(\.budget)
        if !budgets.isEmpty {
            lines.append("")
            lines.append("dollar budgets:")
            for budget in budgets {
                lines.append(
                    "  \(budget.name): $\(SpendBudget.usd(budget.nanodollars)) per \(SlidingWindow(period: budget.period, limit: 0).name) for \(scope(budget))"
                )
            }
        }
        lines.append("")
        lines.append("price table (provider/model: price; source, date):")
        for (provider, model, price) in config.spend.prices.models {
            lines.append("  \(provider)/\(model): \(price.summary); \(price.source), \(price.date)")
        }
        return lines.joined(separator: "\n")
    }

    /// The price a deployment is charged at.
    private func describe(_ deployment: Deployment) -> String {
        guard let endpoint = config.router.providers[deployment.provider] else { return "unknown provider" }
        guard let model = deployment.model else {
            switch config.spend.prices.lookup("", at: endpoint) {
            case .free:
                return "free unless the model is priced (\(endpoint.kind == .ollama ? "Ollama" : "OpenAI-compatible"))"
            case .priced, .unpriced: return "by the requested model's price (table below)"
            }
        }
        switch config.spend.prices.lookup(model, at: endpoint) {
        case .priced(let price, let family): return "`\(model)` as \(family): \(price.summary)"
        case .free: return "`\(model)`: free unless priced"
        case .unpriced:
            return "`\(model)`: NO PRICE (counted as unpriced\(config.spend.refuseUnpriced ? ", refused" : ""))"
        }
    }

    /// Whose spending a budget caps, in words.
    private func scope(_ budget: SpendBudget) -> String {
        let whose: String =
            switch budget.scope {
            case .everyone: "everyone together"
            case .key(let name): name.map { "key `\($0)`" } ?? "each key"
            case .team(let name): name.map { "team `\($0)`" } ?? "each team"
            case .user(let name): name.map { "user `\($0)`" } ?? "each user"
            }
        let models = budget.models.isEmpty ? "" : " on " + budget.models.map(\.text).joined(separator: ", ")
        return whose + models + (budget.provider.map { " at \($0)" } ?? "")
    }
}
