import Logging
import ServiceLifecycle
import SwitchyardCore
import Synchronization

/// Keeps the gateway's keys in step with the keys the admin API stores in the database: reads
/// them once the ledger's database is open, then every `refresh`, so a key made, changed or
/// revoked on any instance counts on this one within that time. While the database does not
/// answer, the keys last read stay in force (warned about once per outage).
public final class KeyDirectory: Service, Sendable {
    private let gateway: Gateway
    private let ledger: SpendLedger
    private let refresh: Duration
    private let warned = Mutex(false)

    /// A directory reading `ledger`'s database every `refreshSeconds`.
    public init(gateway: Gateway, ledger: SpendLedger, refreshSeconds: Double) {
        self.gateway = gateway
        self.ledger = ledger
        self.refresh = .milliseconds(Int64(refreshSeconds * 1000))
    }

    /// Reads the keys until graceful shutdown (every 50 ms until the first read succeeds).
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var loaded = false
            while !Task.isCancelled {
                if await self.refreshNow() { loaded = true }
                try? await Task.sleep(for: loaded ? self.refresh : .milliseconds(50))
            }
        }
    }

    /// Reads the keys now and installs the ones not revoked; false when the database is not
    /// open yet or did not answer.
    @discardableResult
    func refreshNow() async -> Bool {
        guard let database = ledger.database else { return false }
        do {
            let keys = try await KeyTables(database: database).all()
            gateway.install(stored: keys.filter { $0.revoked == nil }.map(\.gatewayKey))
            if warned.withLock({ $0 }) {
                warned.withLock { $0 = false }
                gateway.logger.notice("gateway keys readable from the database again")
            }
            return true
        } catch {
            let first = warned.withLock { warned in
                defer { warned = true }
                return !warned
            }
            if first {
                gateway.logger.warning(
                    "gateway keys could not be read from the database; the keys last read stay in force",
                    metadata: ["error": "\(LedgerDatabases.describe(error))"])
            }
            return false
        }
    }
}
