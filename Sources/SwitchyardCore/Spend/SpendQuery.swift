import Foundation

/// What a spend report asks for: a grouping and a range of UTC days, as `switchyard spend` and
/// `GET /admin/spend` take them (`by`, `since` and `until` as `YYYY-MM-DD`, both inclusive).
public struct SpendQuery: Sendable, Equatable {
    /// How to group.
    public var grouping: SpendGrouping
    /// The first day, `YYYYMMDD`.
    public var since: String
    /// The last day, `YYYYMMDD`.
    public var until: String
    /// Only the requests of this gateway key (by name), when set.
    public var keyName: String?

    /// A query from its textual parts; `since` defaults to the first of the current month (UTC),
    /// `until` to today.
    /// - Throws: a message naming the bad part.
    public init(by: String?, since: String?, until: String?, now: Date = Date()) throws(ConfigError) {
        guard let grouping = SpendGrouping(rawValue: by ?? "key") else {
            throw ConfigError(
                "by: `\(by ?? "")` is not one of \(SpendGrouping.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.grouping = grouping
        let today = LedgerRow.day(of: now)
        self.since =
            try since.map { text throws(ConfigError) in try Self.day(text, name: "since") } ?? String(today.prefix(6))
            + "01"
        self.until = try until.map { text throws(ConfigError) in try Self.day(text, name: "until") } ?? today
    }

    /// `YYYY-MM-DD` as `YYYYMMDD`, checked.
    static func day(_ text: String, name: String) throws(ConfigError) -> String {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isNumber) }), let month = Int(parts[1]), (1...12).contains(month),
            let day = Int(parts[2]), (1...31).contains(day)
        else { throw ConfigError("\(name): `\(text)` is not a date like 2026-12-01") }
        return parts.joined()
    }

    /// A `YYYYMMDD` day as `YYYY-MM-DD`.
    public static func display(_ day: String) -> String {
        guard day.count == 8 else { return day }
        let chars = Array(day)
        return String(chars[0..<4]) + "-" + String(chars[4..<6]) + "-" + String(chars[6..<8])
    }
}
