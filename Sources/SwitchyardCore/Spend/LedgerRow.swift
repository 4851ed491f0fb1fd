import Foundation

/// One request in the spend ledger: who, what, how much. Never any prompt or completion text.
public struct LedgerRow: Sendable, Equatable {
    /// The row's own id, so a write retried after a lost reply is not written twice; ordered by
    /// time, so each batch of rows adds to the end of the table's key index.
    public var id: String = RandomID.timeOrdered("sr_")
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
    public var day: String { Self.day(number: dayNumber) }

    /// The UTC day the row belongs to, as days since 1970-01-01: cheaper to group rows by than
    /// `day`.
    public var dayNumber: Int64 { Self.dayNumber(of: time) }

    /// The UTC day of `date` as days since 1970-01-01.
    public static func dayNumber(of date: Date) -> Int64 { instant(date).days }

    /// The UTC day of `date` as `YYYYMMDD`.
    public static func day(of date: Date) -> String {
        day(number: instant(date).days)
    }

    /// The UTC day `number` days after 1970-01-01 as `YYYYMMDD`.
    public static func day(number: Int64) -> String {
        let (year, month, day) = civil(days: number)
        return String(unsafeUninitializedCapacity: 32) { out in
            var index = 0
            DecimalText.write(year, 4, into: out, at: &index)
            DecimalText.write(month, 2, into: out, at: &index)
            DecimalText.write(day, 2, into: out, at: &index)
            return index
        }
    }

    /// `date` in ISO 8601 to the millisecond, UTC (`2026-12-03T12:19:05.123Z`), written straight
    /// into the string's storage: the ledger writes one per row.
    public static func timestamp(_ date: Date) -> String {
        let (days, milliseconds) = instant(date)
        let (year, month, day) = civil(days: days)
        let seconds = milliseconds / 1000
        return String(unsafeUninitializedCapacity: 48) { out in
            var index = 0
            DecimalText.write(year, 4, then: "-", into: out, at: &index)
            DecimalText.write(month, 2, then: "-", into: out, at: &index)
            DecimalText.write(day, 2, then: "T", into: out, at: &index)
            DecimalText.write(seconds / 3600, 2, then: ":", into: out, at: &index)
            DecimalText.write(seconds / 60 % 60, 2, then: ":", into: out, at: &index)
            DecimalText.write(seconds % 60, 2, then: ".", into: out, at: &index)
            DecimalText.write(milliseconds % 1000, 3, then: "Z", into: out, at: &index)
            return index
        }
    }

    /// The whole days from 1970-01-01 to `date` in UTC, and the milliseconds into its day.
    static func instant(_ date: Date) -> (days: Int64, milliseconds: Int64) {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let days = milliseconds >= 0 ? milliseconds / 86_400_000 : (milliseconds - 86_399_999) / 86_400_000
        return (days, milliseconds - days * 86_400_000)
    }

    /// The civil date of the day `days` after 1970-01-01.
    static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let (year, month) = CalendarMonth.civil(days: days)
        return (year, month, days - CalendarMonth.days(year: year, month: month) + 1)
    }
}
