import Foundation
import Logging
import ServiceLifecycle
import SwitchyardCore
import Synchronization

/// The spend ledger's writer: requests hand it their row and move on; it writes rows in batches off
/// the request path. While the database is down or slow, rows wait in a bounded queue and the
/// writer retries; past the bound the oldest rows are dropped, counted and warned about, and a
/// request never waits. On graceful shutdown it writes what is queued before it stops.
public final class SpendLedger: Service, Sendable {
    /// What the queue holds.
    private struct Queue {
        /// The rows waiting to be written.
        var rows: [LedgerRow] = []
        /// How many rows are being written now, taken out of `rows`: never dropped while the
        /// write may still succeed, and put back in front if it fails.
        var inFlight = 0
        var stopping = false
        /// Whether this outage's drops were warned about (once per outage, not once per row).
        var warnedDrop = false
        /// Rows written, and the statements that wrote them (their ratio shows the batching at work).
        var written = (rows: 0, statements: 0)
    }

    private let url: String
    private let capacity: Int
    private let retentionDays: Int
    private let metrics: GatewayMetrics
    private let logger: Logger
    private let queue = Mutex(Queue())
    private let wake: AsyncStream<Void>
    private let waker: AsyncStream<Void>.Continuation
    /// The open database, once `run` has opened it (reports use it too).
    private let opened = Mutex<(any LedgerDatabase)?>(nil)

    /// Rows written per statement.
    static let batchSize = 500
    /// How long the writer waits for a batch to gather before writing a partial one.
    static let gathering = Duration.milliseconds(100)

    /// A ledger writing to the database `url` names, holding at most `capacity` rows while it waits.
    public init(url: String, capacity: Int, retentionDays: Int, metrics: GatewayMetrics, logger: Logger) {
        self.url = url
        self.capacity = capacity
        self.retentionDays = retentionDays
        self.metrics = metrics
        self.logger = logger
        (wake, waker) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues a row; never blocks. A full queue drops its oldest rows not being written (a
    /// hundredth of it at once, so dropping stays cheap) and counts them.
    func append(_ row: consuming LedgerRow) {
        // Moved in, not copied: the row is taken out of the optional inside the lock.
        var row = Optional(row)
        let (dropped, warn) = queue.withLock { queue -> (Int, Bool) in
            if let taken = row.take() { queue.rows.append(taken) }
            guard queue.rows.count + queue.inFlight > capacity else { return (0, false) }
            let count = min(max(1, capacity / 100), queue.rows.count)
            queue.rows.removeSubrange(0..<count)
            defer { queue.warnedDrop = true }
            return (count, !queue.warnedDrop)
        }
        if dropped > 0 { metrics.ledgerDropped(dropped) }
        if warn {
            logger.warning(
                "ledger queue full: the oldest rows are dropped until the database takes rows again (switchyard_ledger_dropped_rows_total counts them)"
            )
        }
        waker.yield()
    }

    /// The database, once the ledger has opened it (nil before, and after shutdown).
    var database: (any LedgerDatabase)? { opened.withLock { $0 } }

    /// Rows waiting to be written.
    var pending: Int { queue.withLock { $0.rows.count + $0.inFlight } }

    /// Rows written so far, and the insert statements that wrote them.
    var writes: (rows: Int, statements: Int) { queue.withLock { $0.written } }

    /// Opens the database, applies migrations and retention, then writes rows as they come until
    /// graceful shutdown, and then the rows still queued.
    public func run() async throws {
        guard let database = await openWithRetries() else {
            discard(reason: "ledger rows lost at shutdown: the database never answered")
            return
        }
        opened.withLock { $0 = database }
        let tables = LedgerTables(database: database)
        var retainedOn = ""
        await withGracefulShutdownHandler {
            for await _ in wake {
                let today = LedgerRow.day(of: Date())
                if today != retainedOn {
                    retainedOn = today
                    await retain(tables)
                }
                // Let a batch gather: one statement per request would cost more than the request.
                if pending < Self.batchSize, !queue.withLock({ $0.stopping }) {
                    try? await Task.sleep(for: Self.gathering)
                }
                let stopping = await drain(tables)
                if stopping { break }
            }
        } onGracefulShutdown: {
            self.queue.withLock { $0.stopping = true }
            self.waker.yield()
        }
        // Shutdown: the listeners have stopped, but a request whose answer has left may not have
        // queued its row yet; wait for those (bounded), then write what is queued, a few tries.
        for _ in 0..<500 where metrics.inFlightCount.load(ordering: .relaxed) > 0 {
            try? await Task.sleep(for: .milliseconds(10))
        }
        _ = await drain(tables, attempts: 3)
        discard(reason: "ledger rows lost at shutdown: the database did not take them")
        opened.withLock { $0 = nil }
        await database.close()
    }

    /// Empties the queue at shutdown, counting and warning about what it held.
    private func discard(reason: String) {
        let lost = queue.withLock { queue in
            defer { queue.rows.removeAll() }
            return queue.rows.count
        }
        guard lost > 0 else { return }
        metrics.ledgerDropped(lost)
        logger.warning("\(reason)", metadata: ["rows": "\(lost)"])
    }

    /// The database, opened and migrated; retried (with a warning) until it answers or shutdown.
    private func openWithRetries() async -> (any LedgerDatabase)? {
        var delay = 0.5
        var warned = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let database = try await LedgerDatabases.open(url, logger: logger)
                do {
                    try await LedgerTables(database: database).migrate()
                    if warned { logger.notice("ledger database reachable again") }
                    return database
                } catch {
                    await database.close()
                    throw error
                }
            } catch {
                if !warned {
                    logger.warning(
                        "ledger database unavailable; rows wait in the queue",
                        metadata: ["error": "\(LedgerDatabases.describe(error))"])
                    warned = true
                }
                try? await Task.sleep(for: .seconds(delay))
                delay = min(delay * 2, 5)
            }
        }
        return nil
    }

    /// `rows` by UTC day, oldest first; a batch within one day (nearly every batch) is passed on
    /// without copying its rows into groups.
    static func byDay(_ rows: [LedgerRow]) -> [(day: Int64, rows: [LedgerRow])] {
        // Only the rows' times are read: the rows themselves are not copied one by one.
        guard let first = rows.first.map({ LedgerRow.dayNumber(of: $0.time) }),
            rows.indices.allSatisfy({ LedgerRow.dayNumber(of: rows[$0].time) == first })
        else {
            return Dictionary(grouping: rows, by: \.dayNumber).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }
        return [(first, rows)]
    }

    /// Writes queued rows in batches until fewer than a batch are left (all of them once shutdown
    /// was asked; true then), or until a write fails `attempts` times in a row (retrying every
    /// second or so otherwise). Rows that came in during a write wait for the next gathering, so a
    /// steady load is written in full batches, not in one small statement after another.
    private func drain(_ tables: LedgerTables, attempts: Int = .max) async -> Bool {
        var failures = 0
        while true {
            let (batch, stopping) = queue.withLock { queue in
                // A queue of one batch or less (the usual case) is moved out whole, not copied.
                var batch: [LedgerRow] = []
                if queue.rows.count <= Self.batchSize {
                    swap(&batch, &queue.rows)
                } else {
                    batch = Array(queue.rows[..<Self.batchSize])
                    queue.rows.removeFirst(Self.batchSize)
                }
                queue.inFlight = batch.count
                return (batch, queue.stopping)
            }
            if batch.isEmpty { return stopping }
            do {
                let days = Self.byDay(batch)
                for (number, rows) in days {
                    let day = LedgerRow.day(number: number)
                    try await tables.ensureDay(day)
                    try await tables.insert(rows, day: day)
                }
                let left = queue.withLock { queue in
                    queue.written = (queue.written.rows + queue.inFlight, queue.written.statements + days.count)
                    queue.inFlight = 0
                    queue.warnedDrop = false
                    return queue.rows.count
                }
                if failures > 0 { logger.notice("ledger database reachable again; the queue is catching up") }
                failures = 0
                if !stopping && left < Self.batchSize { return false }
            } catch {
                queue.withLock { queue in
                    queue.rows.insert(contentsOf: batch, at: 0)
                    queue.inFlight = 0
                }
                failures += 1
                if failures == 1 {
                    logger.warning(
                        "ledger write failed; rows wait in the queue and are retried",
                        metadata: ["error": "\(LedgerDatabases.describe(error))", "queued": "\(pending)"])
                }
                if failures >= attempts { return true }
                if stopping && failures >= 3 { return true }
                try? await Task.sleep(for: .seconds(min(Double(failures), 5)))
            }
        }
    }

    /// Drops the days older than the retention.
    private func retain(_ tables: LedgerTables) async {
        let oldest = LedgerRow.day(of: Date().addingTimeInterval(-Double(retentionDays) * 86_400))
        do {
            let dropped = try await tables.dropDays(before: oldest)
            if dropped > 0 { logger.info("ledger retention dropped old days", metadata: ["days": "\(dropped)"]) }
        } catch {
            logger.warning("ledger retention failed", metadata: ["error": "\(LedgerDatabases.describe(error))"])
        }
    }

    /// The spend `query` asks for, read from the open database.
    func report(_ query: SpendQuery) async throws -> [SpendLine] {
        guard let database = opened.withLock({ $0 }) else { throw LedgerError("the ledger database is not open") }
        guard database.dialect == .sqlite else {
            return try await LedgerTables(database: database).report(query)
        }
        // A reader of its own: the writer's connection stays the writer's.
        let reader = try await LedgerDatabases.open(url, logger: logger)
        do {
            let lines = try await LedgerTables(database: reader).report(query)
            await reader.close()
            return lines
        } catch {
            await reader.close()
            throw error
        }
    }
}
