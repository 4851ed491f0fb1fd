import Foundation
import SwitchyardCore

/// The gateway keys made through the admin API, in the ledger's database (SQLite or PostgreSQL):
/// one row per key, revoked keys kept for the record.
struct KeyTables: Sendable {
    /// The database.
    let database: any LedgerDatabase

    /// The columns, in the order `insert` and `select` use.
    static let columns = [
        "id", "name", "sha256", "hint", "team", "models", "expires_at", "max_tokens", "max_requests", "budget_nanousd",
        "budget_period", "created_at", "updated_at", "revoked_at",
    ]

    /// Makes the table (a migration step).
    func create() async throws {
        try await database.execute(
            """
            CREATE TABLE IF NOT EXISTS gateway_keys (
              id TEXT PRIMARY KEY, name TEXT NOT NULL, sha256 TEXT NOT NULL, hint TEXT NOT NULL, team TEXT, models TEXT,
              expires_at DOUBLE PRECISION, max_tokens BIGINT, max_requests BIGINT, budget_nanousd BIGINT,
              budget_period TEXT, created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL,
              revoked_at DOUBLE PRECISION)
            """, [])
    }

    /// Every key, revoked ones included, oldest first.
    func all() async throws -> [StoredKey] {
        try await database.rows(
            "SELECT \(Self.columns.joined(separator: ", ")) FROM gateway_keys ORDER BY created_at, id", []
        ).compactMap(Self.key)
    }

    /// The key with `id`, if there is one.
    func key(id: String) async throws -> StoredKey? {
        try await database.rows(
            "SELECT \(Self.columns.joined(separator: ", ")) FROM gateway_keys WHERE id = \(placeholder(1))", [.text(id)]
        ).compactMap(Self.key).first
    }

    /// Writes a new key.
    func insert(_ key: StoredKey) async throws {
        let values = Self.values(key)
        try await database.execute(
            "INSERT INTO gateway_keys (\(Self.columns.joined(separator: ", "))) VALUES (\(values.indices.map { placeholder($0 + 1) }.joined(separator: ", ")))",
            values)
    }

    /// Writes a changed key (settings, secret or revocation) over its row.
    func update(_ key: StoredKey) async throws {
        // Placeholders in order of appearance (SQLite numbers `?` so): the columns after `id`, then `id`.
        let values = Self.values(key)
        let assignments = Self.columns.indices.dropFirst().map { "\(Self.columns[$0]) = \(placeholder($0))" }
        try await database.execute(
            "UPDATE gateway_keys SET \(assignments.joined(separator: ", ")) WHERE id = \(placeholder(values.count))",
            Array(values.dropFirst()) + [values[0]])
    }

    /// The `index`th placeholder of this database.
    private func placeholder(_ index: Int) -> String { database.dialect.placeholder(index) }

    /// A key's row values, in column order.
    static func values(_ key: StoredKey) -> [LedgerValue] {
        let spec = key.spec
        func optional(_ value: Int?) -> LedgerValue { value.map { .int($0) } ?? .null }
        func time(_ date: Date?) -> LedgerValue { date.map { .double($0.timeIntervalSince1970) } ?? .null }
        return [
            .text(key.id), .text(spec.name), .text(Hashing.hex(key.digest)),
            .text(key.hint), spec.team.map { .text($0) } ?? .null,
            spec.models.map {
                .text(String(decoding: JSONWriter.bytes(.array($0.map(JSONValue.string))), as: UTF8.self))
            }
                ?? .null,
            time(spec.expires), optional(spec.maxTokens), optional(spec.maxRequests),
            optional(spec.budget?.nanodollars),
            spec.budget.map { .text(period($0.period)) } ?? .null, time(key.created), time(key.updated),
            time(key.revoked),
        ]
    }

    /// A budget period as the table keeps it: `month`, or a window's seconds.
    static func period(_ period: SlidingWindow.Period) -> String {
        switch period {
        case .calendarMonth: "month"
        case .sliding(let seconds): String(seconds)
        }
    }

    /// A row as a key; nil for a row this build cannot read (left alone rather than guessed at).
    static func key(_ row: [LedgerValue]) -> StoredKey? {
        guard row.count == columns.count, let id = row[0].text, let name = row[1].text, let hex = row[2].text,
            let digest = ConfigLoader.hexBytes(hex), digest.count == 32, let hint = row[3].text
        else { return nil }
        func date(_ value: LedgerValue) -> Date? {
            value == .null ? nil : Date(timeIntervalSince1970: value.double)
        }
        func optional(_ value: LedgerValue) -> Int? { value == .null ? nil : value.int }
        var spec = KeySpec(name: name, team: row[4].text, expires: date(row[6]))
        if let models = row[5].text, let list = try? JSONParser.parse(Array(models.utf8)).arrayValue {
            spec.models = list.compactMap(\.stringValue)
        }
        spec.maxTokens = optional(row[7])
        spec.maxRequests = optional(row[8])
        if let nanodollars = optional(row[9]), let text = row[10].text {
            let period: SlidingWindow.Period =
                text == "month" ? .calendarMonth : .sliding(seconds: Double(text) ?? 86_400)
            spec.budget = KeySpec.Budget(nanodollars: nanodollars, period: period)
        }
        return StoredKey(
            id: id, spec: spec, digest: digest, hint: hint, created: date(row[11]) ?? Date(),
            updated: date(row[12]) ?? Date(), revoked: date(row[13]))
    }
}
