import Foundation
import Logging
import SwitchyardCore

/// Spend reports straight from a ledger database, for `switchyard spend` (no gateway running).
public enum SpendReports {
    /// The spend `query` asks for from the database `url` names (an SQLite file must exist).
    public static func report(_ query: SpendQuery, url: String, logger: Logger) async throws -> [SpendLine] {
        if url.hasPrefix("sqlite:"), !FileManager.default.fileExists(atPath: String(url.dropFirst("sqlite:".count))) {
            throw LedgerError("no ledger at \(url.dropFirst("sqlite:".count)): the gateway has not written one there")
        }
        let database = try await LedgerDatabases.open(url, logger: logger)
        do {
            let tables = LedgerTables(database: database)
            try await tables.migrate()
            let lines = try await tables.report(query)
            await database.close()
            return lines
        } catch {
            await database.close()
            throw error
        }
    }
}
