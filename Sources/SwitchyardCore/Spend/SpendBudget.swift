/// A budget in dollars, declared in the config file's `budgets` list (or by a gateway key's
/// `budget_usd`): whose spending it caps (everyone, a key, a team, a user, or each of them), on which
/// models or provider, how much, and over which period.
public struct SpendBudget: Sendable, Equatable {
    /// Whose spending one budget state holds.
    public enum Scope: Sendable, Equatable {
        /// All requests it covers together (a route's budget).
        case everyone
        /// One gateway key (by name), or each key on its own (nil).
        case key(String?)
        /// One team (by name), or each team on its own (nil).
        case team(String?)
        /// One user (the user header's value), or each user on its own (nil).
        case user(String?)
    }

    /// Name, used in state keys and messages.
    public var name: String
    /// Whose spending it caps.
    public var scope: Scope
    /// Requested-model patterns it covers; empty means every model.
    public var models: [ModelPattern]
    /// The provider it covers; nil means any.
    public var provider: ProviderID?
    /// The cap, in billionths of a dollar.
    public var nanodollars: Int
    /// Over which period spending counts.
    public var period: SlidingWindow.Period

    /// Creates a budget.
    public init(
        name: String, scope: Scope, models: [ModelPattern] = [], provider: ProviderID? = nil, nanodollars: Int,
        period: SlidingWindow.Period = .calendarMonth
    ) {
        self.name = name
        self.scope = scope
        self.models = models
        self.provider = provider
        self.nanodollars = nanodollars
        self.period = period
    }

    /// The state key of a request's spending in this budget, or nil when the budget does not cover
    /// the request. `user` is the user header's value (nil without one).
    public func state(
        model: String, provider: ProviderID, key: GatewayKey?, user: String?
    ) -> String? {
        guard models.isEmpty || models.anyMatches(model),
            self.provider.map({ $0 == provider }) ?? true
        else { return nil }
        let holder: String?
        switch scope {
        case .everyone: holder = ""
        case .key(let name): holder = Self.holder(key?.name, named: name)
        case .team(let name): holder = Self.holder(key?.team, named: name)
        case .user(let name): holder = Self.holder(user, named: name)
        }
        return holder.map { "usd:\(name):\($0)" }
    }

    /// Who holds the state: `value` when the scope names no one or names `value`; nil otherwise.
    private static func holder(_ value: String?, named name: String?) -> String? {
        guard let value, !value.isEmpty, name == nil || name == value else { return nil }
        return value
    }

    /// Dollars as budgets count them: billionths, rounded up.
    public static func nanodollars(usd: Double) -> Int { ModelPrice.nanodollars(usd) }

    /// Billionths of a dollar as dollars, as headers and messages write them (`12.345678`).
    public static func usd(_ nanodollars: Int) -> String {
        ModelPrice.format(Double(nanodollars) / 1_000_000_000)
    }
}
