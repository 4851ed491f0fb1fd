import Foundation
import Logging
import PostgresNIO

/// The ledger in PostgreSQL, for many instances writing one ledger. The client's pool runs in a
/// detached task for as long as the database is open, until `close`.
final class PostgresLedgerDatabase: LedgerDatabase {
    let dialect = LedgerDialect.postgres
    private let client: PostgresClient
    private let running: Task<Void, Never>

    /// Connects to `url` (`postgres://user:pass@host:port/db`, `?sslmode=require` for TLS).
    init(url: String, logger: Logger) throws {
        guard let parts = URLComponents(string: url), let host = parts.host, !host.isEmpty, let user = parts.user
        else { throw LedgerError("DATABASE_URL must look like postgres://user:password@host:port/database") }
        let database = parts.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let tls: PostgresClient.Configuration.TLS =
            parts.queryItems?.contains { $0.name == "sslmode" && $0.value == "require" } == true
            ? .require(.makeClientConfiguration()) : .disable
        var configuration = PostgresClient.Configuration(
            host: host, port: parts.port ?? 5432, username: user.removingPercentEncoding ?? user,
            password: parts.password?.removingPercentEncoding, database: database.isEmpty ? nil : database, tls: tls)
        configuration.options.maximumConnections = 4
        configuration.options.connectTimeout = .seconds(5)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        // Detached: a task made inside the ledger's service would inherit its graceful shutdown,
        // and the pool would close before the ledger's last write.
        running = Task.detached { await client.run() }
    }

    func execute(_ sql: String, _ binds: [LedgerValue]) async throws {
        try await client.query(Self.query(sql, binds))
    }

    func rows(_ sql: String, _ binds: [LedgerValue]) async throws -> [[LedgerValue]] {
        var rows: [[LedgerValue]] = []
        for try await row in try await client.query(Self.query(sql, binds)) {
            rows.append(
                try row.map { cell throws -> LedgerValue in
                    guard cell.bytes != nil else { return .null }
                    switch cell.dataType {
                    case .int2, .int4, .int8: return .int(try cell.decode(Int.self))
                    case .float4, .float8: return .double(try cell.decode(Double.self))
                    case .numeric: return .double(Double(try cell.decode(String.self)) ?? 0)
                    default: return .text(try cell.decode(String.self))
                    }
                })
        }
        return rows
    }

    func insert(_ rows: [[LedgerValue]], into table: String, columns: [String]) async throws {
        guard !rows.isEmpty else { return }
        try await execute(
            dialect.insertStatement(into: table, columns: columns, rows: rows.count), Array(rows.joined()))
    }

    func close() async {
        running.cancel()
        await running.value
    }

    private static func query(_ sql: String, _ binds: [LedgerValue]) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: binds.count)
        for value in binds {
            switch value {
            case .int(let int): bindings.append(int)
            case .double(let double): bindings.append(double)
            case .text(let text): bindings.append(text)
            case .null: bindings.appendNull()
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }
}

/// A ledger failure of the gateway's own (a bad URL, say).
struct LedgerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension LedgerDatabases {
    /// A database error in words: PostgreSQL's own message where it sent one (postgres-nio's
    /// description hides it), never the connection's password.
    public static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] { return "PostgreSQL: \(message)" }
        return "PostgreSQL: \(error.code)" + (error.underlying.map { " (\($0))" } ?? "")
    }
}
