import Foundation

/// A gateway key made through the admin API, as the database keeps it: the key's settings, the
/// SHA-256 of its secret (never the secret), a hint of the secret's end so people can tell keys
/// apart, and its history.
public struct StoredKey: Sendable, Equatable {
    /// The key's id (`key_…`), stable across rotations.
    public var id: String
    /// The key's settings.
    public var spec: KeySpec
    /// SHA-256 of the secret.
    public var digest: [UInt8]
    /// The secret's last characters (`…a1b2`).
    public var hint: String
    /// When the key was made.
    public var created: Date
    /// When it was last changed (settings, rotation or revocation).
    public var updated: Date
    /// When it was revoked, if it was.
    public var revoked: Date?

    /// Creates a stored key.
    public init(
        id: String, spec: KeySpec, digest: [UInt8], hint: String, created: Date, updated: Date, revoked: Date? = nil
    ) {
        self.id = id
        self.spec = spec
        self.digest = digest
        self.hint = hint
        self.created = created
        self.updated = updated
        self.revoked = revoked
    }

    /// A new secret (`sy-` and 40 characters from the system's secure random source) and its hint.
    public static func newSecret() -> (secret: String, digest: [UInt8], hint: String) {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var generator = SystemRandomNumberGenerator()
        let body = String((0..<40).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
        let secret = "sy-" + body
        return (secret, Hashing.sha256(Array(secret.utf8)), "…" + String(body.suffix(4)))
    }

    /// The key as requests check it.
    public var gatewayKey: GatewayKey {
        GatewayKey(
            name: spec.name, digest: digest, models: spec.models?.map(ModelPattern.init), expires: spec.expires,
            limits: BudgetLimits(tokens: spec.maxTokens, requests: spec.maxRequests), team: spec.team,
            budget: spec.budget.map {
                GatewayKey.budget(name: spec.name, nanodollars: $0.nanodollars, period: $0.period)
            })
    }

    /// The key as the admin API shows it (never the secret).
    public var json: JSONValue {
        var object = spec.json.objectValue ?? [:]
        object["id"] = .string(id)
        object["object"] = "gateway_key"
        object["source"] = "database"
        object["hint"] = .string(hint)
        object["created_at"] = .string(KeySpec.iso8601(created))
        object["updated_at"] = .string(KeySpec.iso8601(updated))
        object["revoked_at"] = revoked.map { .string(KeySpec.iso8601($0)) } ?? .null
        return .object(object)
    }
}
