/// Limits of one budget per window: tokens, requests, or both.
public struct BudgetLimits: Sendable, Equatable {
    /// Tokens (prompt + completion) per window; nil means no token limit.
    public var tokens: Int?
    /// Requests per window; nil means no request limit.
    public var requests: Int?

    /// Creates limits.
    public init(tokens: Int? = nil, requests: Int? = nil) {
        self.tokens = tokens
        self.requests = requests
    }

    /// Whether anything is limited.
    public var isEmpty: Bool { tokens == nil && requests == nil }
}

/// A budget for some models or one route's provider, per user, declared in the config file's
/// `rate_limits` list: each user gets these limits for the requests it matches, on top of the
/// global per-user budget.
public struct ModelBudget: Sendable, Equatable {
    /// Name, used in state keys and messages.
    public var name: String
    /// Requested-model patterns this budget covers; empty means every model.
    public var models: [ModelPattern]
    /// The provider (route target) this budget covers; nil means any.
    public var provider: ProviderID?
    /// The limits.
    public var limits: BudgetLimits

    /// Creates a budget.
    public init(name: String, models: [ModelPattern], provider: ProviderID? = nil, limits: BudgetLimits) {
        self.name = name
        self.models = models
        self.provider = provider
        self.limits = limits
    }

    /// Whether a request for `model` routed to `provider` falls under this budget.
    public func covers(model: String, provider: ProviderID) -> Bool {
        (models.isEmpty || models.anyMatches(model)) && (self.provider.map { $0 == provider } ?? true)
    }
}

/// One sliding window a request must fit in: whose state, what limit, how much it takes.
public struct RateLimitCheck: Sendable, Equatable {
    /// What a check counts.
    public enum Kind: String, Sendable, CaseIterable {
        /// Prompt + completion tokens (reserved, then settled).
        case tokens
        /// Requests (one each, never settled).
        case requests
        /// Dollars, in billionths (reserved at the model's price, then settled at the real cost).
        case usd
    }

    /// The state key (`t:<user>`, `b:<budget>:r:<user>`, `k:<key>:t`, …).
    public var key: String
    /// What it counts.
    public var kind: Kind
    /// Window length and limit.
    public var window: SlidingWindow
    /// Amount this request takes (the counted prompt, or 1).
    public var amount: Int
    /// Whose budget this is, for the 429 message (empty for the global per-user budget).
    public var scope: String

    /// Creates a check.
    public init(key: String, kind: Kind, window: SlidingWindow, amount: Int, scope: String = "") {
        self.key = key
        self.kind = kind
        self.window = window
        self.amount = amount
        self.scope = scope
    }
}

/// Which budgets apply to a request: the global per-user budget (`MAX_TOKENS`, `max_requests`),
/// every matching model or route budget (per user), the gateway key's own budget (shared by
/// everyone using the key), and every dollar budget that covers it. A request must fit in all of them.
public struct RateLimitPolicy: Sendable, Equatable {
    /// Window length in seconds, shared by every budget.
    public var windowSeconds: Double
    /// The global per-user budget, when `ENABLE_RATE_LIMITING` is on.
    public var perUser: BudgetLimits?
    /// Model and route budgets from the config file.
    public var budgets: [ModelBudget]
    /// Dollar budgets.
    public var spend: [SpendBudget]

    /// Creates a policy.
    public init(
        windowSeconds: Double, perUser: BudgetLimits?, budgets: [ModelBudget] = [], spend: [SpendBudget] = []
    ) {
        self.windowSeconds = windowSeconds
        self.perUser = perUser
        self.budgets = budgets
        self.spend = spend
    }

    /// The checks for one request of `user` (already qualified by key, header, token or address),
    /// whose user header says `userHeader`; dollar checks take `cost` (billionths of a dollar).
    public func checks(
        user: String, userHeader: String? = nil, key: GatewayKey?, model: String, provider: ProviderID, tokens: Int,
        cost: Int = 0
    ) -> [RateLimitCheck] {
        var checks: [RateLimitCheck] = []
        func add(_ limits: BudgetLimits, state: (RateLimitCheck.Kind) -> String, scope: String) {
            let pairs: [(RateLimitCheck.Kind, Int?, Int)] = [
                (.tokens, limits.tokens, tokens), (.requests, limits.requests, 1),
            ]
            for case (let kind, let limit?, let amount) in pairs {
                checks.append(
                    RateLimitCheck(
                        key: state(kind), kind: kind, window: SlidingWindow(windowSeconds: windowSeconds, limit: limit),
                        amount: amount, scope: scope))
            }
        }
        func letter(_ kind: RateLimitCheck.Kind) -> String { kind == .tokens ? "t" : "r" }
        if let perUser { add(perUser, state: { "\(letter($0)):\(user)" }, scope: "") }
        for budget in budgets where budget.covers(model: model, provider: provider) {
            add(budget.limits, state: { "b:\(budget.name):\(letter($0)):\(user)" }, scope: "budget `\(budget.name)`")
        }
        if let key { add(key.limits, state: { "k:\(key.name):\(letter($0))" }, scope: "key `\(key.name)`") }
        func add(_ budget: SpendBudget) {
            guard let state = budget.state(model: model, provider: provider, key: key, user: userHeader ?? user) else {
                return
            }
            checks.append(
                RateLimitCheck(
                    key: state, kind: .usd, window: SlidingWindow(period: budget.period, limit: budget.nanodollars),
                    amount: cost, scope: "budget `\(budget.name)`"))
        }
        for budget in spend { add(budget) }
        if let budget = key?.budget { add(budget) }
        return checks
    }

    /// Whether any budget may apply to a request made with `key` (nil without keys): when none
    /// can, a request needs no counting and no reservation.
    public func mayLimit(key: GatewayKey?) -> Bool {
        perUser != nil || !budgets.isEmpty || !spend.isEmpty || key?.isLimited == true
    }
}
