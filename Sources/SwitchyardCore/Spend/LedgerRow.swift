import Foundation

/// One request in the spend ledger: who, what, how much. Never any prompt or completion text.
public struct LedgerRow: Sendable, Equatable {
    /// The row's own id, so a write retried after a lost reply is not written twice.
    public var id: String = RandomID.make("sr_")
    /// When the request ended.
    public var time: Date
    /// The request id (echoed to the client as `x-request-id`).
    public var requestID: String
    /// The gateway key's name, when keys are configured.
    public var keyName: String?
    /// The user: the user header's value, else the gateway's name for the caller.
    public var user: String?
    /// The key's team.
    public var team: String?
    /// The route label (`chat`, `messages`, …).
    public var route: String
    /// The provider that answered (`none` when none was reached).
    public var provider: String
    /// The model asked for.
    public var model: String
    /// The usage charged (counted locally where the provider reported none).
    public var usage: TokenUsage
    /// The cost in dollars; nil for a model without a price.
    public var costUSD: Double?
    /// The HTTP status the client got (499 when it left first).
    public var status: Int
    /// From arrival to the answer's end, in milliseconds.
    public var latencyMilliseconds: Double

    /// Creates a row.
    public init(
        time: Date, requestID: String, keyName: String?, user: String?, team: String?, route: String,
        provider: String, model: String, usage: TokenUsage, costUSD: Double?, status: Int,
        latencyMilliseconds: Double
    ) {
        self.time = time
        self.requestID = requestID
        self.keyName = keyName
        self.user = user
        self.team = team
        self.route = route
        self.provider = provider
        self.model = model
        self.usage = usage
        self.costUSD = costUSD
        self.status = status
        self.latencyMilliseconds = latencyMilliseconds
    }

    /// The UTC day the row belongs to, as `YYYYMMDD` (the ledger keeps one table per day).
    public var day: String { Self.day(of: time) }

    /// The UTC day of `date` as `YYYYMMDD`.
    public static func day(of date: Date) -> String {
        let days = Int64((date.timeIntervalSince1970 / 86_400).rounded(.down))
        let (year, month) = CalendarMonth.civil(days: days)
        let first = CalendarMonth.days(year: year, month: month)
        return String(format: "%04d%02d%02d", year, month, days - first + 1)
    }
}
