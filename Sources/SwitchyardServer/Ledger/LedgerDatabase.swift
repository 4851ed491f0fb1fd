import Logging

/// A value bound into, or read out of, a ledger query.
public enum LedgerValue: Sendable, Equatable {
    /// A whole number.
    case int(Int)
    /// A floating-point number.
    case double(Double)
    /// Text.
    case text(String)
    /// SQL NULL.
    case null

    /// The value as text (NULL as nil).
    var text: String? {
        switch self {
        case .text(let text): text
        case .int(let int): String(int)
        case .double(let double): String(double)
        case .null: nil
        }
    }

    /// The value as a whole number (0 for NULL or text).
    var int: Int {
        switch self {
        case .int(let int): int
        case .double(let double): Int(double)
        case .text, .null: 0
        }
    }

    /// The value as a floating-point number (0 for NULL or text).
    var double: Double {
        switch self {
        case .int(let int): Double(int)
        case .double(let double): double
        case .text, .null: 0
        }
    }
}

/// The SQL database the spend ledger lives in: SQLite (embedded) or PostgreSQL. The ledger's SQL is
/// common to both but for placeholders and the catalog of tables.
public protocol LedgerDatabase: Sendable {
    /// Which SQL the database speaks.
    var dialect: LedgerDialect { get }
    /// Runs one statement.
    func execute(_ sql: String, _ binds: [LedgerValue]) async throws
    /// Runs one query and returns its rows, each as its columns in order.
    func rows(_ sql: String, _ binds: [LedgerValue]) async throws -> [[LedgerValue]]
    /// Writes `rows` (each its values in the order of `columns`, the first the row's id) into
    /// `table`, all or none; rows whose id is there already (a retry after a lost reply) are skipped.
    func insert(_ rows: [[LedgerValue]], into table: String, columns: [String]) async throws
    /// Closes the connections.
    func close() async
}

/// Where SQLite and PostgreSQL differ for the ledger.
public enum LedgerDialect: Sendable {
    /// SQLite.
    case sqlite
    /// PostgreSQL.
    case postgres

    /// The placeholder for the `index`th (from 1) bound value.
    func placeholder(_ index: Int) -> String {
        self == .sqlite ? "?" : "$\(index)"
    }

    /// The statement inserting `rows` rows into `table`'s `columns`, skipping ids already there:
    /// `VALUES (?, ?), (?, ?)` or `VALUES ($1, $2), ($3, $4)`.
    func insertStatement(into table: String, columns: [String], rows: Int) -> String {
        let values = (0..<rows).map { row in
            "(" + (1...columns.count).map { placeholder(row * columns.count + $0) }.joined(separator: ", ") + ")"
        }
        return "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES \(values.joined(separator: ", "))"
            + " ON CONFLICT (\(columns[0])) DO NOTHING"
    }

    /// The query listing the ledger's day tables.
    var dayTablesQuery: String {
        switch self {
        case .sqlite: "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'spend_%'"
        case .postgres:
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'spend_%'"
        }
    }
}

/// Opens ledger databases by their `DATABASE_URL`.
public enum LedgerDatabases {
    /// The database `url` names (`sqlite:PATH` or `postgres://user:pass@host:port/db`), opened.
    public static func open(_ url: String, logger: Logger) async throws -> any LedgerDatabase {
        if url.hasPrefix("sqlite:") {
            return try await SQLiteLedgerDatabase.open(path: String(url.dropFirst("sqlite:".count)))
        }
        return try PostgresLedgerDatabase(url: url, logger: logger)
    }
}
