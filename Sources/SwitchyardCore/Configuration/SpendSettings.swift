/// What spend tracking needs: the prices, what to do with unpriced models, where the ledger lives,
/// and the admin listener that reports it.
public struct SpendSettings: Sendable, Equatable {
    /// Model prices: the built-in table with the config file's laid over it.
    public var prices = PriceTable()
    /// Refuse requests for models without a price (otherwise they are served and counted as unpriced).
    public var refuseUnpriced = false
    /// Where the ledger lives: `sqlite:PATH` or `postgres://…`; nil for no ledger.
    public var databaseURL: String? = "sqlite:switchyard.sqlite"
    /// Days of ledger kept; older days are dropped whole.
    public var retentionDays = 90
    /// Rows the ledger queue holds while the database is slow or down, before it drops (and counts) rows.
    public var ledgerQueueRows = 100_000
    /// The admin listener's port; nil keeps it off.
    public var adminPort: Int?
    /// SHA-256 of the admin key (bearer) the admin listener requires.
    public var adminKeyDigest: [UInt8]?
    /// How often the keys made through the admin API are read again from the database, in
    /// seconds: the longest a key made or revoked on another instance takes to count here.
    public var keyRefreshSeconds: Double = 2

    /// Whether gateway keys live in the database too (the admin API makes them): the admin
    /// listener is on and there is a database.
    public var storesKeys: Bool { adminPort != nil && databaseURL != nil }

    /// Creates settings with the defaults.
    public init() {}
}
