import Foundation

/// What the admin API sets on a gateway key: its name, team, allowed models, expiry, and its own
/// token, request and dollar budgets. Parsed from the API's JSON and checked as the config file's
/// keys are.
public struct KeySpec: Sendable, Equatable {
    /// A key's own dollar budget: how much, over which period.
    public struct Budget: Sendable, Equatable {
        /// The cap, in billionths of a dollar.
        public var nanodollars: Int
        /// Over which period spending counts.
        public var period: SlidingWindow.Period

        /// Creates a budget.
        public init(nanodollars: Int, period: SlidingWindow.Period) {
            self.nanodollars = nanodollars
            self.period = period
        }
    }

    /// The key's name (logs, budgets, the ledger).
    public var name: String
    /// The team it belongs to.
    public var team: String?
    /// Model patterns it may use; nil means every model.
    public var models: [String]?
    /// When it stops working.
    public var expires: Date?
    /// Tokens per rate-limit window, shared by everyone who uses the key.
    public var maxTokens: Int?
    /// Requests per rate-limit window.
    public var maxRequests: Int?
    /// Its own dollar budget.
    public var budget: Budget?

    /// Creates a spec.
    public init(
        name: String, team: String? = nil, models: [String]? = nil, expires: Date? = nil, maxTokens: Int? = nil,
        maxRequests: Int? = nil, budget: Budget? = nil
    ) {
        self.name = name
        self.team = team
        self.models = models
        self.expires = expires
        self.maxTokens = maxTokens
        self.maxRequests = maxRequests
        self.budget = budget
    }

    /// The spec of a key from the config file, for showing it beside the stored ones.
    public init(_ key: GatewayKey) {
        self.init(
            name: key.name, team: key.team, models: key.models?.map(\.text), expires: key.expires,
            maxTokens: key.limits.tokens, maxRequests: key.limits.requests,
            budget: key.budget.map { Budget(nanodollars: $0.nanodollars, period: $0.period) })
    }

    /// The fields the API reads; anything else is refused, so a misspelt limit is not silently
    /// ignored.
    static let fields: Set<String> = [
        "name", "team", "models", "expires", "max_tokens", "max_requests", "budget_usd", "budget_period",
        "budget_window_minutes",
    ]

    /// A new key's spec from a create request's JSON object.
    /// - Throws: a message naming the field that is wrong.
    public static func creating(_ body: JSONValue) throws(ConfigError) -> KeySpec {
        guard let name = body["name"]?.stringValue else { throw ConfigError("name: required, a string") }
        var spec = KeySpec(name: name)
        try spec.update(body, creating: true)
        return spec
    }

    /// Applies an update request's JSON object: each field given replaces the key's (`null`
    /// removes it); fields not given are kept. The name is not changed by updates.
    /// - Throws: a message naming the field that is wrong.
    public mutating func update(_ body: JSONValue, creating: Bool = false) throws(ConfigError) {
        guard let object = body.objectValue else { throw ConfigError("the body must be a JSON object") }
        if let unknown = object.keys.sorted().first(where: { !Self.fields.contains($0) }) {
            throw ConfigError("\(unknown): not a key setting (\(Self.fields.sorted().joined(separator: ", ")))")
        }
        if !creating, object["name"] != nil {
            throw ConfigError("name: a key's name cannot be changed; make a new key")
        }
        if creating { try Self.checkName(name) }
        if let team = object["team"] {
            guard team == .null || team.stringValue != nil else { throw ConfigError("team: a string or null") }
            self.team = team.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        }
        if let models = object["models"] {
            switch models {
            case .null: self.models = nil
            case .array(let items):
                let names = items.compactMap(\.stringValue).filter { !$0.isEmpty }
                guard names.count == items.count, !names.isEmpty else {
                    throw ConfigError("models: a non-empty list of model names or patterns (`gpt-4o*`), or null")
                }
                self.models = names
            default: throw ConfigError("models: a list of model names or patterns, or null")
            }
        }
        if let expires = object["expires"] {
            if expires == .null {
                self.expires = nil
            } else {
                guard let text = expires.stringValue, let date = Self.date(text) else {
                    throw ConfigError("expires: an ISO 8601 date (2027-01-31 or 2027-01-31T12:00:00Z), or null")
                }
                self.expires = date
            }
        }
        try updateLimits(object)
    }

    /// The token, request and dollar limits of an update.
    private mutating func updateLimits(_ object: JSONObject) throws(ConfigError) {
        if let value = object["max_tokens"] { maxTokens = try Self.positive(value, field: "max_tokens") }
        if let value = object["max_requests"] { maxRequests = try Self.positive(value, field: "max_requests") }
        let period = object["budget_period"]
        let minutes = object["budget_window_minutes"]
        if let usd = object["budget_usd"] {
            guard usd != .null else {
                budget = nil
                return
            }
            guard case .number(let dollars) = usd, dollars > 0, dollars < 1_000_000_000 else {
                throw ConfigError("budget_usd: a number of dollars more than 0, or null")
            }
            budget = Budget(
                nanodollars: SpendBudget.nanodollars(usd: dollars), period: budget?.period ?? .calendarMonth)
        }
        guard period != nil || minutes != nil else { return }
        guard var current = budget else {
            throw ConfigError("budget_period: give budget_usd too (the key has no dollar budget)")
        }
        let windowMinutes: Int?
        if let minutes, minutes != .null {
            guard let value = minutes.intValue else { throw ConfigError("budget_window_minutes: a whole number") }
            windowMinutes = value
        } else {
            windowMinutes = nil
        }
        let name = period?.stringValue
        guard period == nil || period == .null || name != nil else {
            throw ConfigError("budget_period: month or day")
        }
        current.period = try ConfigLoader.period(name, windowMinutes: windowMinutes, at: "budget_period")
        budget = current
    }

    /// A positive whole number, or nil for `null`.
    private static func positive(_ value: JSONValue, field: String) throws(ConfigError) -> Int? {
        guard value != .null else { return nil }
        guard let number = value.intValue, number > 0 else {
            throw ConfigError("\(field): a whole number above 0, or null")
        }
        return number
    }

    /// Names are what logs, budgets and the ledger show: short, printable, no spaces.
    static func checkName(_ name: String) throws(ConfigError) {
        guard (1...64).contains(name.count),
            name.unicodeScalars.allSatisfy({
                ($0.properties.isAlphabetic || $0.properties.numericType != nil || "-_.@".unicodeScalars.contains($0))
                    && $0.isASCII
            })
        else {
            throw ConfigError("name: 1 to 64 letters, digits, `-`, `_`, `.` or `@`")
        }
    }

    /// An ISO 8601 date or date-time.
    static func date(_ text: String) -> Date? { ConfigLoader.date(text) }

    /// A date as the API writes it.
    public static func iso8601(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    /// The period as the API writes it: `month`, `day`, or a number of minutes.
    var periodJSON: JSONValue {
        switch budget?.period {
        case nil: .null
        case .calendarMonth?: "month"
        case .sliding(let seconds)? where seconds == 86_400: "day"
        case .sliding(let seconds)?: .string("\(Int(seconds / 60)) minutes")
        }
    }

    /// The spec as the admin API shows it.
    public var json: JSONValue {
        [
            "name": .string(name), "team": team.map(JSONValue.string) ?? .null,
            "models": models.map { .array($0.map(JSONValue.string)) } ?? .null,
            "expires": expires.map { .string(Self.iso8601($0)) } ?? .null,
            "max_tokens": maxTokens.map { .number(Double($0)) } ?? .null,
            "max_requests": maxRequests.map { .number(Double($0)) } ?? .null,
            "budget_usd": budget.map { .number(Double($0.nanodollars) / 1_000_000_000) } ?? .null,
            "budget_period": periodJSON,
        ]
    }
}
