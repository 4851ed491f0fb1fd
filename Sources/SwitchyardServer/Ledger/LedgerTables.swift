import Foundation
import SwitchyardCore

/// The ledger's tables over either database: a schema version, and one table of rows per UTC day
/// (`spend_YYYYMMDD`), so retention drops whole days without rewriting anything.
struct LedgerTables: Sendable {
    /// The database.
    let database: any LedgerDatabase

    /// The schema version this build writes; `migrate` brings older ledgers to it.
    static let schemaVersion = 2

    /// The columns of a day table, in insert order.
    static let columns = [
        "id", "time", "request_id", "key_name", "user_name", "team", "route", "provider", "model", "tokens_in",
        "tokens_out", "tokens_cached", "tokens_reasoning", "cost_usd", "status", "latency_ms",
    ]

    /// Applies the migrations the database has not seen yet, in order.
    func migrate() async throws {
        try await database.execute(
            "CREATE TABLE IF NOT EXISTS switchyard_schema (version INTEGER NOT NULL, applied_at TEXT NOT NULL)", [])
        let applied = try await database.rows("SELECT MAX(version) FROM switchyard_schema", []).first?.first?.int ?? 0
        // Version 1 is the day-table layout (day tables are made as rows arrive); version 2 adds
        // the gateway keys made through the admin API.
        for version in stride(from: applied + 1, through: Self.schemaVersion, by: 1) {
            if version == 2 { try await KeyTables(database: database).create() }
            try await database.execute(
                "INSERT INTO switchyard_schema (version, applied_at) VALUES (\(database.dialect.placeholder(1)), \(database.dialect.placeholder(2)))",
                [.int(version), .text(ISO8601DateFormatter().string(from: Date()))])
        }
    }

    /// Makes the table of `day` (`YYYYMMDD`) unless it exists.
    func ensureDay(_ day: String) async throws {
        try await database.execute(
            """
            CREATE TABLE IF NOT EXISTS spend_\(day) (
              id TEXT PRIMARY KEY, time TEXT NOT NULL, request_id TEXT NOT NULL, key_name TEXT, user_name TEXT, team TEXT,
              route TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,
              tokens_in BIGINT NOT NULL, tokens_out BIGINT NOT NULL, tokens_cached BIGINT NOT NULL,
              tokens_reasoning BIGINT NOT NULL, cost_usd DOUBLE PRECISION, status INTEGER NOT NULL,
              latency_ms DOUBLE PRECISION NOT NULL)
            """, [])
    }

    /// Writes `rows` of one day, all or none; rows already written (a retry after a lost reply)
    /// are skipped.
    func insert(_ rows: [LedgerRow], day: String) async throws {
        try await database.insert(rows.map(Self.values), into: "spend_\(day)", columns: Self.columns)
    }

    /// A row's values in the order of `columns`.
    static func values(_ row: LedgerRow) -> [LedgerValue] {
        [
            .text(row.id), .text(LedgerRow.timestamp(row.time)), .text(row.requestID),
            row.keyName.map { .text($0) } ?? .null,
            row.user.map { .text($0) } ?? .null, row.team.map { .text($0) } ?? .null, .text(row.route),
            .text(row.provider), .text(row.model), .int(row.usage.promptTokens), .int(row.usage.completionTokens),
            .int(row.usage.cachedTokens), .int(row.usage.reasoningTokens), row.costUSD.map { .double($0) } ?? .null,
            .int(row.status), .double(row.latencyMilliseconds),
        ]
    }

    /// The days that have a table, oldest first.
    func days() async throws -> [String] {
        try await database.rows(database.dialect.dayTablesQuery, []).compactMap { row in
            guard let name = row.first?.text, name.count == 14, name.hasPrefix("spend_") else { return nil }
            let day = String(name.dropFirst(6))
            return day.allSatisfy(\.isNumber) ? day : nil
        }.sorted()
    }

    /// Drops the tables of days before `oldestKept` (`YYYYMMDD`); returns how many.
    func dropDays(before oldestKept: String) async throws -> Int {
        let old = try await days().filter { $0 < oldestKept }
        for day in old { try await database.execute("DROP TABLE IF EXISTS spend_\(day)", []) }
        return old.count
    }

    /// Spend over the query's days, grouped.
    func report(_ query: SpendQuery) async throws -> [SpendLine] {
        var lines: [SpendLine] = []
        for day in try await days() where day >= query.since && day <= query.until {
            let group =
                switch query.grouping {
                case .key: "key_name"
                case .user: "user_name"
                case .team: "team"
                case .model: "model"
                case .day: "'\(SpendQuery.display(day))'"
                }
            let rows = try await database.rows(
                """
                SELECT \(group), COUNT(*), CAST(COALESCE(SUM(tokens_in), 0) AS BIGINT),
                  CAST(COALESCE(SUM(tokens_out), 0) AS BIGINT), CAST(COALESCE(SUM(cost_usd), 0) AS DOUBLE PRECISION),
                  CAST(SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END) AS BIGINT)
                FROM spend_\(day)\(query.keyName == nil ? "" : " WHERE key_name = \(database.dialect.placeholder(1))")\(query.grouping == .day ? "" : " GROUP BY \(group)")
                """, query.keyName.map { [.text($0)] } ?? [])
            for row in rows where row.count == 6 && row[1].int > 0 {
                lines.append(
                    SpendLine(
                        group: row[0].text ?? "(none)", requests: row[1].int, tokensIn: row[2].int,
                        tokensOut: row[3].int, costUSD: row[4].double, unpriced: row[5].int))
            }
        }
        return SpendLine.merged(lines)
    }
}
