import ArgumentParser
import Logging
import SwitchyardCore
import SwitchyardServer

/// `switchyard spend`: what was spent, from the ledger in the configured database.
struct SpendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spend",
        abstract: "Print spend from the ledger (DATABASE_URL), grouped by key, user, team, model or day."
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "Group by key, user, team, model or day.")
    var by = "key"

    @Option(name: .long, help: "First day, YYYY-MM-DD (UTC; default: the first of this month).")
    var since: String?

    @Option(name: .long, help: "Last day, YYYY-MM-DD (UTC; default: today).")
    var until: String?

    @Flag(name: .long, help: "Print JSON (as GET /admin/spend answers) instead of a table.")
    var json = false

    func run() async throws {
        let config = try options.load()
        let query: SpendQuery
        do {
            query = try SpendQuery(by: by, since: since, until: until)
        } catch {
            printError("switchyard: \(error.message)")
            throw ExitCode(1)
        }
        guard let url = config.spend.databaseURL else {
            printError("switchyard: DATABASE_URL is `none`: there is no ledger to read")
            throw ExitCode(1)
        }
        let lines: [SpendLine]
        do {
            lines = try await SpendReports.report(query, url: url, logger: Logger(label: "switchyard"))
        } catch {
            printError("switchyard: cannot read the ledger: \(LedgerDatabases.describe(error))")
            throw ExitCode(1)
        }
        if json {
            print(String(decoding: JSONWriter.bytes(SpendLine.json(lines, query: query)), as: UTF8.self))
        } else {
            print(
                "spend \(SpendQuery.display(query.since)) to \(SpendQuery.display(query.until)) (UTC), by \(query.grouping.rawValue):"
            )
            print(SpendLine.table(lines, by: query.grouping))
        }
    }
}
