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
    public var day: String { Self.day(of: time) }

    /// The UTC day of `date` as `YYYYMMDD`.
    public static func day(of date: Date) -> String {
        let (year, month, day, _) = civil(date)
        var out: [UInt8] = []
        out.reserveCapacity(8)
        append(year, 4, to: &out)
        append(month, 2, to: &out)
        append(day, 2, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `date` in ISO 8601 to the millisecond, UTC (`2026-12-03T12:19:05.123Z`), without a
    /// formatter or a string per field: the ledger writes one per row.
    public static func timestamp(_ date: Date) -> String {
        let (year, month, day, milliseconds) = civil(date)
        let seconds = milliseconds / 1000
        var out: [UInt8] = []
        out.reserveCapacity(24)
        for (value, width, separator) in [
            (year, 4, "-"), (month, 2, "-"), (day, 2, "T"), (seconds / 3600, 2, ":"), (seconds / 60 % 60, 2, ":"),
            (seconds % 60, 2, "."), (milliseconds % 1000, 3, "Z"),
        ] as [(Int64, Int, Unicode.Scalar)] {
            append(value, width, to: &out)
            out.append(UInt8(ascii: separator))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The civil date of `date` in UTC, and the milliseconds into its day.
    static func civil(_ date: Date) -> (year: Int64, month: Int64, day: Int64, milliseconds: Int64) {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let days = milliseconds >= 0 ? milliseconds / 86_400_000 : (milliseconds - 86_399_999) / 86_400_000
        let (year, month) = CalendarMonth.civil(days: days)
        return (year, month, days - CalendarMonth.days(year: year, month: month) + 1, milliseconds - days * 86_400_000)
    }

    /// Appends `value` in decimal, zero-padded to `width` (a sign first when negative).
    static func append(_ value: Int64, _ width: Int, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        let start = out.count
        var rest = value.magnitude
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        while out.count - start < width { out.append(UInt8(ascii: "0")) }
        out[start...].reverse()
    }
}
