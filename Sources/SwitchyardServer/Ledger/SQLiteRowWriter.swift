import NIOPosix
import Synchronization
import VaporCSQLite

/// Writes the SQLite ledger's rows through a connection of its own, with its inserts prepared once
/// per table and kept. SQLiteNIO prepares every statement anew: for a batch of rows, parsing and
/// compiling a statement with a `VALUES` list per row cost more than inserting the rows.
final class SQLiteRowWriter: Sendable {
    /// Rows per step of the larger insert: a batch is written in steps of this many rows, the rest
    /// one by one, so the cost of starting and ending a statement is shared.
    static let rowsPerStep = 16

    /// The connection and the inserts of the table written last, used by one call at a time.
    private struct Connection {
        let handle: OpaquePointer
        var table = ""
        /// The inserts of `table`, by rows per step.
        var inserts: [Int: OpaquePointer] = [:]

        /// Finalizes the inserts.
        mutating func finalize() {
            for statement in inserts.values { sqlite_nio_sqlite3_finalize(statement) }
            inserts = [:]
        }
    }

    private let connection: Mutex<Connection?>

    /// Opens a connection to the file at `path` (which another connection has made and put in WAL
    /// mode), waiting up to 5 s for another writer.
    init(path: String) throws {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let opened = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
        guard opened == SQLITE_OK, let handle else {
            defer { sqlite_nio_sqlite3_close_v2(handle) }
            throw SQLiteWriteError(code: opened, message: handle.map(Self.message) ?? "cannot open \(path)")
        }
        sqlite_nio_sqlite3_busy_timeout(handle, 5000)
        do {
            try Self.run("PRAGMA synchronous=NORMAL", on: handle)
        } catch {
            sqlite_nio_sqlite3_close_v2(handle)
            throw error
        }
        connection = Mutex(Connection(handle: handle))
    }

    /// Inserts `rows` (each its values in the order of `columns`, the first the row's id) into
    /// `table` in one transaction, on the blocking-work pool: all of them or, on an error, none.
    /// Rows whose id is there already are skipped.
    func insert(_ rows: [[LedgerValue]], into table: String, columns: [String]) async throws {
        try await NIOThreadPool.singleton.runIfActive { try self.insertNow(rows, into: table, columns: columns) }
    }

    /// Finalizes the statements and closes the connection; later inserts fail.
    func close() {
        connection.withLock { connection in
            guard var open = connection else { return }
            connection = nil
            open.finalize()
            sqlite_nio_sqlite3_close_v2(open.handle)
        }
    }

    private func insertNow(_ rows: [[LedgerValue]], into table: String, columns: [String]) throws {
        try connection.withLock { connection in
            guard var open = connection else {
                throw SQLiteWriteError(code: SQLITE_MISUSE, message: "the ledger is closed")
            }
            defer { connection = open }
            if open.table != table {
                open.finalize()
                open.table = table
            }
            let handle = open.handle
            try Self.run("BEGIN IMMEDIATE", on: handle)
            do {
                var rest = rows[...]
                while !rest.isEmpty {
                    let step = rest.count >= Self.rowsPerStep ? Self.rowsPerStep : 1
                    let statement = try Self.statement(rows: step, columns: columns, in: &open)
                    try Self.insert(rest.prefix(step), with: statement, on: handle)
                    rest = rest.dropFirst(step)
                }
                try Self.run("COMMIT", on: handle)
            } catch {
                try? Self.run("ROLLBACK", on: handle)
                throw error
            }
        }
    }

    /// The connection's table's insert of `rows` rows a step, prepared at its first use.
    private static func statement(rows: Int, columns: [String], in connection: inout Connection) throws -> OpaquePointer
    {
        if let statement = connection.inserts[rows] { return statement }
        let sql = LedgerDialect.sqlite.insertStatement(into: connection.table, columns: columns, rows: rows)
        var statement: OpaquePointer?
        let prepared = sqlite_nio_sqlite3_prepare_v3(
            connection.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard prepared == SQLITE_OK, let statement else {
            throw SQLiteWriteError(code: prepared, message: message(connection.handle))
        }
        connection.inserts[rows] = statement
        return statement
    }

    /// Binds `rows` to `statement` one after another, steps it once, and resets it for the next
    /// step (every value is bound again then, so none is cleared).
    private static func insert(
        _ rows: ArraySlice<[LedgerValue]>, with statement: OpaquePointer, on handle: OpaquePointer
    ) throws {
        defer { sqlite_nio_sqlite3_reset(statement) }
        var index: Int32 = 1
        for row in rows {
            for value in row {
                let bound =
                    switch value {
                    case .int(let int): sqlite_nio_sqlite3_bind_int64(statement, index, Int64(int))
                    case .double(let double): sqlite_nio_sqlite3_bind_double(statement, index, double)
                    case .null: sqlite_nio_sqlite3_bind_null(statement, index)
                    case .text(var text):
                        // In place: passing the `String` itself would copy it into a new C string first.
                        text.withUTF8 { bytes in
                            bytes.withMemoryRebound(to: CChar.self) { chars in
                                sqlite_nio_sqlite3_bind_text64(
                                    statement, index, chars.baseAddress, UInt64(chars.count), transient,
                                    UInt8(SQLITE_UTF8))
                            }
                        }
                    }
                guard bound == SQLITE_OK else { throw SQLiteWriteError(code: bound, message: message(handle)) }
                index += 1
            }
        }
        let stepped = sqlite_nio_sqlite3_step(statement)
        guard stepped == SQLITE_DONE else { throw SQLiteWriteError(code: stepped, message: message(handle)) }
    }

    /// Runs `sql`, a statement without binds or rows.
    private static func run(_ sql: String, on handle: OpaquePointer) throws {
        let result = sqlite_nio_sqlite3_exec(handle, sql, nil, nil, nil)
        guard result == SQLITE_OK else { throw SQLiteWriteError(code: result, message: message(handle)) }
    }

    /// SQLite's message for the connection's last error.
    private static func message(_ handle: OpaquePointer) -> String {
        sqlite_nio_sqlite3_errmsg(handle).map { String(cString: $0) } ?? "unknown error"
    }

    /// Tells SQLite to copy a bound text before the call returns (`SQLITE_TRANSIENT`).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

/// An SQLite call of the ledger's writer that failed: SQLite's result code and message.
struct SQLiteWriteError: Error, CustomStringConvertible {
    /// SQLite's (extended) result code.
    let code: Int32
    /// SQLite's message.
    let message: String

    var description: String { "SQLite: \(message) (\(code))" }
}
