import NIOCore
import NIOPosix
import SQLiteNIO

/// The ledger in an SQLite file: nothing to install. One connection makes tables and runs queries,
/// a second writes the rows (`SQLiteRowWriter`); readers open their own (WAL mode lets them read
/// while it writes).
final class SQLiteLedgerDatabase: LedgerDatabase {
    let dialect = LedgerDialect.sqlite
    private let connection: SQLiteConnection
    private let writer: SQLiteRowWriter

    private init(connection: SQLiteConnection, writer: SQLiteRowWriter) {
        self.connection = connection
        self.writer = writer
    }

    /// Opens (or creates) the file at `path`, in WAL mode with `synchronous=NORMAL` (a commit is not
    /// flushed to disk on its own: a power cut may lose the last moments of rows, a crash of the
    /// gateway loses none), waiting up to 5 s for another writer.
    static func open(path: String) async throws -> SQLiteLedgerDatabase {
        let connection = try await SQLiteConnection.open(storage: .file(path: path))
        do {
            _ = try await connection.query("PRAGMA journal_mode=WAL", [])
            _ = try await connection.query("PRAGMA synchronous=NORMAL", [])
            _ = try await connection.query("PRAGMA busy_timeout=5000", [])
            let writer = try await NIOThreadPool.singleton.runIfActive { try SQLiteRowWriter(path: path) }
            return SQLiteLedgerDatabase(connection: connection, writer: writer)
        } catch {
            try? await connection.close()
            throw error
        }
    }

    func execute(_ sql: String, _ binds: [LedgerValue]) async throws {
        _ = try await connection.query(sql, binds.map(Self.data))
    }

    func rows(_ sql: String, _ binds: [LedgerValue]) async throws -> [[LedgerValue]] {
        try await connection.query(sql, binds.map(Self.data)).map { row in
            row.columns.map { column in
                switch column.data {
                case .integer(let int): .int(Int(int))
                case .float(let double): .double(double)
                case .text(let text): .text(text)
                case .blob, .null: .null
                }
            }
        }
    }

    func insert(_ rows: [[LedgerValue]], into table: String, columns: [String]) async throws {
        guard !rows.isEmpty else { return }
        try await writer.insert(rows, into: table, columns: columns)
    }

    func close() async {
        writer.close()
        try? await connection.close()
    }

    private static func data(_ value: LedgerValue) -> SQLiteData {
        switch value {
        case .int(let int): .integer(int)
        case .double(let double): .float(double)
        case .text(let text): .text(text)
        case .null: .null
        }
    }
}
