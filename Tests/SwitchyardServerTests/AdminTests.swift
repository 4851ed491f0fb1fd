import Foundation
import Logging
import SwitchyardCore
import Testing

@testable import SwitchyardServer

@Suite("Administration: stored keys in a real SQLite file, live configuration, status figures")
struct AdminTests {
    static func stored(_ name: String, budget: KeySpec.Budget? = nil) -> (StoredKey, String) {
        let secret = StoredKey.newSecret()
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded() + 0.5)
        let spec = KeySpec(
            name: name, team: "research", models: ["gpt-4o*", "claude-*"], expires: now + 86_400, maxTokens: 500,
            maxRequests: 7, budget: budget)
        return (
            StoredKey(
                id: RandomID.make("key_", length: 24), spec: spec, digest: secret.digest, hint: secret.hint,
                created: now, updated: now),
            secret.secret
        )
    }

    @Test("Keys are written, read back whole, changed, revoked; a version-1 ledger gains the key table")
    func keyTables() async throws {
        let (database, path) = try await LedgerTests.database()
        defer { try? FileManager.default.removeItem(atPath: path) }
        // A ledger made by a build before keys existed.
        try await database.execute(
            "CREATE TABLE switchyard_schema (version INTEGER NOT NULL, applied_at TEXT NOT NULL)", [])
        try await database.execute("INSERT INTO switchyard_schema VALUES (1, '2026-11-01T00:00:00Z')", [])
        try await LedgerTables(database: database).migrate()
        let versions = try await database.rows("SELECT version FROM switchyard_schema ORDER BY version", [])
        #expect(versions.map { $0[0].int } == [1, 2])

        let tables = KeyTables(database: database)
        let (month, _) = Self.stored(
            "alice", budget: KeySpec.Budget(nanodollars: 20_000_000_000, period: .calendarMonth))
        let (window, _) = Self.stored("bob", budget: KeySpec.Budget(nanodollars: 1, period: .sliding(seconds: 5400)))
        let (plain, _) = Self.stored("carol")
        for key in [month, window, plain] { try await tables.insert(key) }
        #expect(try await tables.all() == [month, window, plain].sorted { $0.id < $1.id })
        #expect(try await tables.key(id: window.id) == window)
        #expect(try await tables.key(id: "key_missing") == nil)

        var changed = month
        changed.spec.models = nil
        changed.spec.maxTokens = nil
        changed.spec.budget = nil
        let rotated = StoredKey.newSecret()
        (changed.digest, changed.hint) = (rotated.digest, rotated.hint)
        changed.revoked = Date(timeIntervalSince1970: 1_796_100_000)
        try await tables.update(changed)
        #expect(try await tables.key(id: month.id) == changed)
        #expect(try await tables.key(id: window.id) == window)
        await database.close()
    }

    @Test("A request keeps the configuration it started with; reloads and stored keys change it for the next")
    func liveConfiguration() throws {
        let environment = ["OPENAI_API_KEY": "sk-x", "ALLOW_UNAUTHENTICATED": "true", "DATABASE_URL": "none"]
        let first = try ConfigLoader(environment: environment).load()
        let gateway = Gateway(
            config: first,
            transport: NIOUpstreamTransport(wholeBodyLimit: 1 << 20, idleConnectionsPerKey: 1),
            metrics: GatewayMetrics(), logger: Logger(label: "test"))
        let started = gateway.current
        #expect(!started.keyring.isEnabled)

        let (key, secret) = Self.stored("alice")
        gateway.install(stored: [key.gatewayKey])
        #expect(gateway.current.keyring.isEnabled && !started.keyring.isEnabled)
        #expect(try gateway.current.keyring.authenticate(secret).name == "alice")

        let path = NSTemporaryDirectory() + "switchyard-reload-\(UUID().uuidString).yaml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
        routes:
          - {match: "alias-*", provider: openai, model: gpt-4o}
        rate_limits:
          - {name: small, match: "gpt-*", max_tokens: 10}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let loaded = try ConfigLoader(environment: environment, configPath: path).load()
        let report = gateway.reload(loaded)
        #expect(report.applied == ["providers", "routes", "prices", "gateway_keys"])
        #expect(report.needRestart == ["rate limits and budgets"])
        // The stored keys outlive a reload; the request that started before it still routes as before.
        #expect(try gateway.current.keyring.authenticate(secret).name == "alice")
        #expect(try gateway.current.router.plan("alias-x", pick: 0) { _ in true }[0].upstreamModel == "gpt-4o")
        #expect(try started.router.plan("alias-x", pick: 0) { _ in true }[0].upstreamModel == "alias-x")
        #expect(ReloadReport(running: first, loaded: first).needRestart.isEmpty)
    }

    @Test("Recent log lines keep the newest, oldest first")
    func recentLines() {
        let lines = RecentLines(capacity: 3)
        #expect(lines.lines.isEmpty)
        for n in 1...2 { lines.append("line \(n)\n") }
        #expect(lines.lines == ["line 1", "line 2"])
        for n in 3...5 { lines.append("line \(n)\n") }
        #expect(lines.lines == ["line 3", "line 4", "line 5"])
    }

    @Test("Provider figures: error rate and latency percentiles over the last attempts")
    func providerStats() {
        let stats = ProviderStats()
        for n in 1...100 { stats.record(provider: "openai", seconds: Double(n) / 100) }
        for _ in 1...25 { stats.record(provider: "openai", seconds: nil) }
        stats.record(provider: "anthropic", seconds: nil)
        let summaries = stats.summaries()
        #expect(summaries.map(\.provider) == ["anthropic", "openai"])
        #expect(summaries[0].errorRate == 1 && summaries[0].p50 == nil)
        let openai = summaries[1]
        #expect(openai.attempts == 125 && openai.errorRate == 0.2)
        #expect(openai.p50 == 0.51 && openai.p95 == 0.96 && openai.p99 == 1.0)
        // Only the last attempts count.
        for _ in 0..<ProviderStats.capacity { stats.record(provider: "openai", seconds: 2) }
        #expect(stats.summaries()[1].errorRate == 0 && stats.summaries()[1].p50 == 2)
    }
}
