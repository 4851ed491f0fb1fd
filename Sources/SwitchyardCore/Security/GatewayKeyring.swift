import Foundation

/// A gateway key: who holds it, what it may use, until when. Only the SHA-256 of the secret is kept.
public struct GatewayKey: Sendable, Equatable {
    /// The key's name, used in logs and as the rate-limit user; never the secret.
    public var name: String
    /// SHA-256 of the secret.
    public var digest: [UInt8]
    /// Model patterns this key may use; nil means every model.
    public var models: [ModelPattern]?
    /// When the key stops working, if ever.
    public var expires: Date?
    /// The key's own budget per window, shared by everyone who uses it.
    public var limits: BudgetLimits
    /// The team the key belongs to (its team's dollar budgets apply), if any.
    public var team: String?
    /// The key's own dollar budget (`key:<name>`, shared by everyone who uses it), if any.
    public var budget: SpendBudget?

    /// Creates a key.
    public init(
        name: String, digest: [UInt8], models: [ModelPattern]? = nil, expires: Date? = nil,
        limits: BudgetLimits = BudgetLimits(), team: String? = nil, budget: SpendBudget? = nil
    ) {
        self.name = name
        self.digest = digest
        self.models = models
        self.expires = expires
        self.limits = limits
        self.team = team
        self.budget = budget
    }

    /// The dollar budget a key of `name` gets from its `budget_usd`: the key's own, over `period`.
    public static func budget(name: String, nanodollars: Int, period: SlidingWindow.Period) -> SpendBudget {
        SpendBudget(name: "key:\(name)", scope: .key(name), nanodollars: nanodollars, period: period)
    }

    /// Whether any budget of the key's own applies (tokens, requests or dollars).
    public var isLimited: Bool { !limits.isEmpty || budget != nil }

    /// Whether this key may use `model`.
    public func allows(_ model: String) -> Bool {
        models?.anyMatches(model) ?? true
    }
}

/// The configured gateway keys, and the check every client request passes when there are any.
public struct GatewayKeyring: Sendable {
    /// The keys.
    public let keys: [GatewayKey]
    /// Whether clients must present a key even while there is none (keys are made at run time
    /// through the admin API, and serving without one was not allowed).
    public let required: Bool

    /// Creates a keyring.
    public init(keys: [GatewayKey], required: Bool = false) {
        self.keys = keys
        self.required = required
    }

    /// Whether clients must present a key.
    public var isEnabled: Bool { required || !keys.isEmpty }

    /// The same keyring with `more` keys (the ones made through the admin API) after its own.
    public func adding(_ more: [GatewayKey], required: Bool) -> GatewayKeyring {
        GatewayKeyring(keys: keys + more, required: required)
    }

    /// The presented secret: `Authorization: Bearer <key>`, else `x-api-key`.
    public static func presentedKey(authorization: String?, apiKeyHeader: String?) -> String? {
        ClientContext.bearerToken(in: authorization) ?? apiKeyHeader?.trimmingCharacters(in: .whitespaces)
    }

    /// The key matching `secret`, compared in constant time: every configured key is compared in
    /// full, whatever matches, so timing reveals nothing about which bytes were right.
    /// - Throws: 401 when no key was presented, it matches none, or it has expired.
    public func authenticate(_ secret: String?, now: Date = Date()) throws(GatewayError) -> GatewayKey {
        guard let secret, !secret.isEmpty else {
            throw .unauthorized(
                "Missing API key: send your Switchyard key as `Authorization: Bearer <key>` or `x-api-key: <key>`.")
        }
        let digest = Hashing.sha256(Array(secret.utf8))
        var match: GatewayKey?
        for key in keys {
            if Hashing.equalInConstantTime(key.digest, digest), match == nil { match = key }
        }
        guard let key = match else { throw .unauthorized("Incorrect API key provided.") }
        if let expires = key.expires, expires <= now {
            throw .unauthorized("The API key `\(key.name)` has expired.")
        }
        return key
    }

    /// Throws 403 when `key` may not use `model`.
    public func authorize(_ key: GatewayKey, model: String) throws(GatewayError) {
        guard key.allows(model) else {
            throw GatewayError(
                status: 403, type: "permission_error",
                message: "The API key `\(key.name)` may not use the model `\(model)`.", code: "model_not_allowed",
                param: "model")
        }
    }
}
