import Foundation
import Logging
import ServiceLifecycle
import SwitchyardCore
import Synchronization
import Testing

@testable import SwitchyardServer

@Suite("The spend ledger in a real SQLite file: day tables, reports, retention, the queue")
struct LedgerTests {
    static func row(_ day: String, key: String?, model: String, cost: Double?, tokens: Int = 10) -> LedgerRow {
        let time = ISO8601DateFormatter().date(from: "\(SpendQuery.display(day))T12:00:00Z")!
        return LedgerRow(
            time: time, requestID: "req_\(UUID().uuidString)", keyName: key, user: "u", team: key == nil ? nil : "t",
            route: "chat", provider: "openai", model: model,
            usage: TokenUsage(promptTokens: tokens, completionTokens: 2),
            costUSD: cost, status: 200, latencyMilliseconds: 1.5)
    }

    static func database() async throws -> (any LedgerDatabase, String) {
        let path = NSTemporaryDirectory() + "switchyard-ledger-\(UUID().uuidString).sqlite"
        return (try await LedgerDatabases.open("sqlite:\(path)", logger: Logger(label: "test")), path)
    }

    /// Runs `body` with a new SQLite ledger's migrated tables; the file is removed afterwards.
    static func withTables(_ body: (LedgerTables, any LedgerDatabase) async throws -> Void) async throws {
        let (database, path) = try await Self.database()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tables = LedgerTables(database: database)
        try await tables.migrate()
        try await body(tables, database)
        await database.close()
    }

    @Test("A batch is written by day, oldest first, each day's rows in queue order; one day stays whole")
    func batchesByDay() {
        let late = Self.row("20261202", key: "a", model: "m1", cost: 1)
        let early = Self.row("20261201", key: "b", model: "m2", cost: 2)
        let later = Self.row("20261202", key: "c", model: "m3", cost: 3)
        let mixed = SpendLedger.byDay([late, early, later])
        #expect(mixed.map(\.rows) == [[early], [late, later]])
        #expect(mixed.map(\.day) == [early.dayNumber, late.dayNumber])
        let one = SpendLedger.byDay([late, later])
        #expect(one.count == 1 && one[0].day == late.dayNumber && one[0].rows == [late, later])
        #expect(SpendLedger.byDay([]).isEmpty)
    }

    @Test("Rows land in their day's table; reports group and add them; a retried write is not doubled")
    func reports() async throws {
        try await Self.withTables { tables, _ in
            try await tables.migrate()  // idempotent
            let rows = [
                Self.row("20261201", key: "alice", model: "gpt-4o", cost: 0.5),
                Self.row("20261201", key: "bob", model: "gpt-4o", cost: 0.25),
                Self.row("20261202", key: "alice", model: "claude-sonnet-4-5", cost: 1),
                Self.row("20261202", key: nil, model: "llama3", cost: nil),
            ]
            for (day, group) in Dictionary(grouping: rows, by: \.day) {
                try await tables.ensureDay(day)
                try await tables.insert(group, day: day)
                try await tables.insert(group, day: day)
            }
            #expect(try await tables.days() == ["20261201", "20261202"])
            let all = try SpendQuery(by: "key", since: "2026-12-01", until: "2026-12-02")
            let byKey = try await tables.report(all)
            #expect(byKey.map(\.group) == ["alice", "bob", "(none)"])
            #expect(byKey[0].requests == 2 && abs(byKey[0].costUSD - 1.5) < 1e-9 && byKey[0].tokensIn == 20)
            #expect(byKey[2].unpriced == 1)
            let byDay = try await tables.report(try SpendQuery(by: "day", since: "2026-12-02", until: "2026-12-02"))
            #expect(byDay.map(\.group) == ["2026-12-02"] && byDay[0].requests == 2)
            #expect(try await tables.dropDays(before: "20261202") == 1)
            #expect(try await tables.days() == ["20261202"])
        }
    }

    @Test(
        "Every column reads back exactly as written: escapes, non-ASCII and empty text, nulls, large and small numbers")
    func columns() async throws {
        try await Self.withTables { tables, database in
            var row = Self.row("20261203", key: nil, model: "gpt-4o", cost: 1.2345678901234567e-07)
            row.user = "quote \" back\\slash\nline\ttab \u{1} é 🚀"
            row.usage = TokenUsage(promptTokens: 1 << 40, completionTokens: 0, cachedTokens: 7, reasoningTokens: 3)
            row.latencyMilliseconds = 12.345
            var unpriced = Self.row("20261203", key: "k", model: "llama3", cost: nil)
            unpriced.status = 499
            unpriced.model = ""
            try await tables.ensureDay("20261203")
            try await tables.insert([row, unpriced], day: "20261203")
            let stored = try await database.rows("SELECT * FROM spend_20261203 ORDER BY id", [])
            let expected = [row, unpriced].map(Self.values)
            #expect(stored == expected.sorted { ($0[0].text ?? "") < ($1[0].text ?? "") })
        }
    }

    @Test("A batch with a row the table refuses writes none of its rows; batches of any size are written whole")
    func allOrNone() async throws {
        try await Self.withTables { tables, database in
            try await tables.ensureDay("20261204")
            try await tables.ensureDay("20261205")
            func count(_ day: String) async throws -> [[LedgerValue]] {
                try await database.rows("SELECT COUNT(*) FROM spend_\(day)", [])
            }
            let rows = (0..<40).map { Self.row($0 < 20 ? "20261204" : "20261205", key: "k", model: "m", cost: 1) }
            var refused = LedgerTables.columns.map { _ in LedgerValue.null }
            refused[0] = .text("sr_refused")  // `time` and the other NOT NULL columns stay null
            // The refused row among a step of many rows, and on its own after one.
            for batch in [rows[0..<20].map(LedgerTables.values), [LedgerTables.values(rows[0])]] {
                var batch = batch
                batch.insert(refused, at: batch.count == 1 ? 1 : 5)
                await #expect(throws: (any Error).self) {
                    try await database.insert(batch, into: "spend_20261204", columns: LedgerTables.columns)
                }
                #expect(try await count("20261204") == [[.int(0)]])
            }
            try await tables.insert(Array(rows[20..<25]), day: "20261205")
            try await tables.insert(Array(rows[0..<20]), day: "20261204")
            try await tables.insert(Array(rows[20...]), day: "20261205")  // the first five are there already
            #expect(try await count("20261204") == [[.int(20)]])
            #expect(try await count("20261205") == [[.int(20)]])
            let stored = try await database.rows("SELECT * FROM spend_20261205 ORDER BY id", [])
            #expect(stored == rows[20...].map(Self.values).sorted { ($0[0].text ?? "") < ($1[0].text ?? "") })
        }
    }

    /// A row's values in the order of `LedgerTables.columns`, written out here rather than taken from
    /// `LedgerTables.values`, so the expectations do not share a mistake with what is written.
    static func values(_ row: LedgerRow) -> [LedgerValue] {
        [
            .text(row.id), .text(LedgerRow.timestamp(row.time)), .text(row.requestID),
            row.keyName.map { .text($0) } ?? .null, row.user.map { .text($0) } ?? .null,
            row.team.map { .text($0) } ?? .null, .text(row.route), .text(row.provider), .text(row.model),
            .int(row.usage.promptTokens), .int(row.usage.completionTokens), .int(row.usage.cachedTokens),
            .int(row.usage.reasoningTokens), row.costUSD.map { .double($0) } ?? .null, .int(row.status),
            .double(row.latencyMilliseconds),
        ]
    }

    @Test("A full queue drops its oldest rows and counts them; graceful shutdown writes the rest")
    func queue() async throws {
        let path = NSTemporaryDirectory() + "switchyard-ledger-\(UUID().uuidString).sqlite"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let metrics = GatewayMetrics()
        let ledger = SpendLedger(
            url: "sqlite:\(path)", capacity: 10, retentionDays: 90, metrics: metrics, logger: Logger(label: "test"))
        let today = LedgerRow.day(of: Date())
        let yesterday = LedgerRow.day(of: Date(timeIntervalSinceNow: -86_400))
        // The last row is of another day: the batch writes to two day tables.
        for index in 0..<15 {
            ledger.append(Self.row(index == 14 ? yesterday : today, key: "k", model: "m", cost: 0.01))
        }
        #expect(ledger.pending == 10)
        #expect(
            try Exposition(String(decoding: metrics.render(), as: UTF8.self)).value(
                "switchyard_ledger_dropped_rows_total") == 5)
        let group = ServiceGroup(
            configuration: .init(services: [ledger], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        for _ in 0..<100 where ledger.pending > 0 { try await Task.sleep(for: .milliseconds(20)) }
        ledger.append(Self.row(today, key: "k", model: "m", cost: 0.01))
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(ledger.pending == 0)
        let lines = try await SpendReports.report(
            try SpendQuery(by: "key", since: nil, until: nil), url: "sqlite:\(path)", logger: Logger(label: "test"))
        #expect(lines.first?.requests == 11)
        let days = try await SpendReports.report(
            try SpendQuery(by: "day", since: SpendQuery.display(yesterday), until: nil), url: "sqlite:\(path)",
            logger: Logger(label: "test"))
        #expect(
            days.map { "\($0.group) \($0.requests)" }.sorted()
                == ["\(SpendQuery.display(yesterday)) 1", "\(SpendQuery.display(today)) 10"])
    }

    @Test("A steady stream of rows is written in gathered batches, not one small statement after another")
    func gathering() async throws {
        let path = NSTemporaryDirectory() + "switchyard-ledger-\(UUID().uuidString).sqlite"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let ledger = SpendLedger(
            url: "sqlite:\(path)", capacity: 10_000, retentionDays: 90, metrics: GatewayMetrics(),
            logger: Logger(label: "test"))
        let group = ServiceGroup(configuration: .init(services: [ledger], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        for _ in 0..<100 where ledger.database == nil { try await Task.sleep(for: .milliseconds(10)) }
        let today = LedgerRow.day(of: Date())
        let clock = ContinuousClock()
        let start = clock.now
        // A row about every 0.1 ms for 0.5 s, from a thread of its own: rows keep arriving while
        // each write runs.
        let produced = Mutex(0)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread {
                while clock.now - start < .milliseconds(500) {
                    ledger.append(Self.row(today, key: "k", model: "m", cost: 0.01))
                    produced.withLock { $0 += 1 }
                    usleep(100)
                }
                done.resume()
            }.start()
        }
        let elapsed = clock.now - start
        await group.triggerGracefulShutdown()
        try await running.value
        let writes = ledger.writes
        #expect(writes.rows == produced.withLock { $0 })
        // Per gathering (0.1 s) while rows came: the full batches, then one write of the rest;
        // plus the last write at shutdown.
        let gatherings = Int(elapsed / SpendLedger.gathering) + 1
        #expect(
            writes.statements <= writes.rows / SpendLedger.batchSize + gatherings + 1,
            "\(writes.statements) writes of \(writes.rows) rows in \(elapsed)")
    }
}
