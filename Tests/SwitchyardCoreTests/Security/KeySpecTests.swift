import Foundation
import Testing

@testable import SwitchyardCore

@Suite("Keys made through the admin API: settings, secrets, budgets")
struct KeySpecTests {
    private func json(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test("A create request sets every field; an update replaces what it names and null removes it")
    func createAndUpdate() throws {
        var spec = try KeySpec.creating(
            json(
                #"{"name":"alice","team":"research","models":["gpt-4o*"],"expires":"2027-01-31","max_tokens":5000,"max_requests":10,"budget_usd":20,"budget_period":"day"}"#
            ))
        #expect(spec.name == "alice" && spec.team == "research" && spec.models == ["gpt-4o*"])
        #expect(spec.expires == ConfigLoader.date("2027-01-31") && spec.maxTokens == 5000 && spec.maxRequests == 10)
        #expect(spec.budget == KeySpec.Budget(nanodollars: 20_000_000_000, period: .sliding(seconds: 86_400)))
        try spec.update(json(#"{"models":null,"max_tokens":null,"budget_usd":5}"#))
        #expect(spec.models == nil && spec.maxTokens == nil && spec.maxRequests == 10)
        // A new amount keeps the period; a window in minutes replaces it.
        #expect(spec.budget == KeySpec.Budget(nanodollars: 5_000_000_000, period: .sliding(seconds: 86_400)))
        try spec.update(json(#"{"budget_window_minutes":90}"#))
        #expect(spec.budget?.period == .sliding(seconds: 5400))
        try spec.update(json(#"{"budget_usd":null,"team":""}"#))
        #expect(spec.budget == nil && spec.team == nil)
        #expect(spec.json["budget_period"] == .null && spec.json["max_requests"] == .number(10))
    }

    @Test(
        "Bad requests are refused with the field named first",
        arguments: [
            (#"{}"#, "name"), (#"{"name":"a b"}"#, "name"), (#"{"name":""}"#, "name"),
            (#"{"name":"a","budget_usd":0}"#, "budget_usd"), (#"{"name":"a","budget_usd":"5"}"#, "budget_usd"),
            (#"{"name":"a","max_tokens":1.5}"#, "max_tokens"), (#"{"name":"a","max_requests":-2}"#, "max_requests"),
            (#"{"name":"a","models":[]}"#, "models"), (#"{"name":"a","models":[1]}"#, "models"),
            (#"{"name":"a","expires":"soon"}"#, "expires"), (#"{"name":"a","colour":"red"}"#, "colour"),
            (#"{"name":"a","budget_period":"month"}"#, "budget_period"),
            (#"{"name":"a","budget_usd":1,"budget_period":"week"}"#, "budget_period"),
            (#"{"name":"a","budget_usd":1,"budget_window_minutes":0}"#, "budget_period"), (#"[1]"#, "name"),
        ])
    func refusals(body: String, field: String) throws {
        let value = try json(body)
        do {
            _ = try KeySpec.creating(value)
            Issue.record("\(body) was accepted")
        } catch {
            #expect(error.message.hasPrefix(field), "\(error.message)")
        }
    }

    @Test("An update cannot rename a key")
    func noRename() throws {
        var spec = KeySpec(name: "alice")
        #expect(throws: ConfigError.self) { try spec.update(try json(#"{"name":"bob"}"#)) }
    }

    @Test("A secret is 40 random characters after sy-, kept only as its SHA-256 and a hint")
    func secrets() {
        let one = StoredKey.newSecret()
        let two = StoredKey.newSecret()
        #expect(one.secret.hasPrefix("sy-") && one.secret.count == 43 && one.secret != two.secret)
        #expect(one.digest == Hashing.sha256(Array(one.secret.utf8)))
        #expect(one.hint == "…" + one.secret.suffix(4))
        #expect(one.secret.dropFirst(3).allSatisfy { $0.isLetter || $0.isNumber })
    }

    @Test("A stored key checks as the config file's keys do, its dollar budget its own")
    func storedKeyChecks() throws {
        let secret = StoredKey.newSecret()
        let spec = KeySpec(
            name: "alice", team: "research", models: ["gpt-4o*"], maxRequests: 3,
            budget: KeySpec.Budget(nanodollars: 1_000, period: .calendarMonth))
        let stored = StoredKey(
            id: "key_1", spec: spec, digest: secret.digest, hint: secret.hint, created: Date(), updated: Date())
        let keyring = GatewayKeyring(keys: []).adding([stored.gatewayKey], required: false)
        let key = try keyring.authenticate(secret.secret)
        #expect(key.name == "alice" && key.team == "research" && key.isLimited)
        #expect(throws: GatewayError.self) { try keyring.authorize(key, model: "claude-sonnet-4-5") }
        let policy = RateLimitPolicy(windowSeconds: 60, perUser: nil)
        #expect(policy.mayLimit(key: key) && !policy.mayLimit(key: nil))
        let checks = policy.checks(
            user: "key:alice", key: key, model: "gpt-4o", provider: ProviderID("openai"), tokens: 10, cost: 7)
        #expect(checks.map(\.key) == ["k:alice:r", "usd:key:alice:alice"])
        #expect(checks[1].amount == 7 && checks[1].window.limit == 1_000)
        #expect(stored.json["key"] == nil && stored.json["hint"] == .string(secret.hint))
        #expect(stored.json["source"] == "database" && stored.json["budget_usd"] == .number(0.000001))
    }

    @Test("Keys are required while none exists only when the keyring says so")
    func requiredKeyring() throws {
        let empty = GatewayKeyring(keys: [])
        #expect(!empty.isEnabled)
        let required = empty.adding([], required: true)
        #expect(required.isEnabled)
        #expect(throws: GatewayError.self) { try required.authenticate("anything") }
    }

    @Test("The admin listener's key is the key itself or its SHA-256; stored keys need a database and the listener")
    func adminKey() throws {
        let digest = Hashing.sha256(Array("admin".utf8)).map { String(format: "%02x", $0) }.joined()
        let plain = try ConfigLoader(environment: ["ADMIN_PORT": "9999", "ADMIN_KEY": "admin"]).load()
        let hashed = try ConfigLoader(environment: ["ADMIN_PORT": "9999", "ADMIN_KEY": "sha256:\(digest)"]).load()
        #expect(plain.spend.adminKeyDigest == Hashing.sha256(Array("admin".utf8)))
        #expect(hashed.spend.adminKeyDigest == plain.spend.adminKeyDigest && hashed.spend.storesKeys)
        #expect(throws: ConfigError.self) {
            try ConfigLoader(environment: ["ADMIN_PORT": "9999", "ADMIN_KEY": "sha256:abc"]).load()
        }
        let none = try ConfigLoader(environment: ["ADMIN_PORT": "9999", "ADMIN_KEY": "a", "DATABASE_URL": "none"])
            .load()
        #expect(!none.spend.storesKeys)
        // With a provider key on the server, clients need a gateway key before the first is made.
        let exposed = try ConfigLoader(environment: ["ADMIN_PORT": "9999", "ADMIN_KEY": "a", "OPENAI_API_KEY": "sk"])
            .load()
        #expect(exposed.keyring.isEnabled && exposed.keyring.keys.isEmpty)
        try exposed.checkExposure()
    }
}
