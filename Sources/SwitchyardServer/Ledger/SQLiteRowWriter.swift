import NIOPosix
import Synchronization
import VaporCSQLite

/// Writes the SQLite ledger's rows through a connection of its own, with the insert prepared once
/// per table and kept. SQLiteNIO prepares every statement anew: for a batch of rows, parsing and
/// compiling a statement with a `VALUES` list per row cost more than inserting the rows.
final class SQLiteRowWriter: Sendable {
    /// The connection and the insert prepared last, used by one call at a time.
    private struct Connection {
        let handle: OpaquePointer
        var insert: (sql: String, statement: OpaquePointer)?
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

    /// Inserts `rows` (each its values in the order of `sql`'s placeholders) in one transaction, on
    /// the blocking-work pool: all of them or, on an error, none.
    func insert(_ rows: [[LedgerValue]], sql: String) async throws {
        try await NIOThreadPool.singleton.runIfActive { try self.insertNow(rows, sql: sql) }
    }

    /// Finalizes the statement and closes the connection; later inserts fail.
    func close() {
        connection.withLock { connection in
            guard let open = connection else { return }
            connection = nil
            if let insert = open.insert { sqlite_nio_sqlite3_finalize(insert.statement) }
            sqlite_nio_sqlite3_close_v2(open.handle)
        }
    }

    private func insertNow(_ rows: [[LedgerValue]], sql: String) throws {
        try connection.withLock { connection in
            guard var open = connection else {
                throw SQLiteWriteError(code: SQLITE_MISUSE, message: "the ledger is closed")
            }
            let statement = try Self.statement(for: sql, in: &open)
            connection = open
            let handle = open.handle
            try Self.run("BEGIN IMMEDIATE", on: handle)
            do {
                for row in rows { try Self.insert(row, with: statement, on: handle) }
                try Self.run("COMMIT", on: handle)
            } catch {
                try? Self.run("ROLLBACK", on: handle)
                throw error
            }
        }
    }

    /// The prepared statement of `sql`: the one kept when it is the same, else prepared in its place.
    private static func statement(for sql: String, in connection: inout Connection) throws -> OpaquePointer {
        if let insert = connection.insert, insert.sql == sql { return insert.statement }
        if let insert = connection.insert { sqlite_nio_sqlite3_finalize(insert.statement) }
        connection.insert = nil
        var statement: OpaquePointer?
        let prepared = sqlite_nio_sqlite3_prepare_v3(
            connection.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard prepared == SQLITE_OK, let statement else {
            throw SQLiteWriteError(code: prepared, message: message(connection.handle))
        }
        connection.insert = (sql, statement)
        return statement
    }

    /// Binds `row` to `statement`, steps it once, and resets it for the next row.
    private static func insert(_ row: [LedgerValue], with statement: OpaquePointer, on handle: OpaquePointer) throws {
        defer {
            sqlite_nio_sqlite3_reset(statement)
            sqlite_nio_sqlite3_clear_bindings(statement)
        }
        for (offset, value) in row.enumerated() {
            let index = Int32(offset + 1)
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
