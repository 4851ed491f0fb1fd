import Foundation

/// How a spend report groups the ledger.
public enum SpendGrouping: String, Sendable, CaseIterable {
    /// By gateway key name.
    case key
    /// By user.
    case user
    /// By team.
    case team
    /// By model.
    case model
    /// By UTC day.
    case day
}

/// One line of a spend report: a group and what it spent.
public struct SpendLine: Sendable, Equatable {
    /// The group's value (`(none)` where the rows have none).
    public var group: String
    /// Requests.
    public var requests: Int
    /// Prompt tokens.
    public var tokensIn: Int
    /// Generated tokens.
    public var tokensOut: Int
    /// Dollars.
    public var costUSD: Double
    /// Requests for models without a price.
    public var unpriced: Int

    /// Creates a line.
    public init(group: String, requests: Int, tokensIn: Int, tokensOut: Int, costUSD: Double, unpriced: Int) {
        self.group = group
        self.requests = requests
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.costUSD = costUSD
        self.unpriced = unpriced
    }

    /// Lines with equal groups added together, most spent first.
    public static func merged(_ lines: [SpendLine]) -> [SpendLine] {
        var byGroup: [String: SpendLine] = [:]
        for line in lines {
            var total =
                byGroup[line.group]
                ?? SpendLine(
                    group: line.group, requests: 0, tokensIn: 0, tokensOut: 0, costUSD: 0, unpriced: 0)
            total.requests += line.requests
            total.tokensIn += line.tokensIn
            total.tokensOut += line.tokensOut
            total.costUSD += line.costUSD
            total.unpriced += line.unpriced
            byGroup[line.group] = total
        }
        return byGroup.values.sorted { ($0.costUSD, $1.group) > ($1.costUSD, $0.group) }
    }

    /// The report as JSON (`/admin/spend`).
    public static func json(_ lines: [SpendLine], query: SpendQuery) -> JSONValue {
        let grouping = query.grouping
        let rows: [JSONValue] = lines.map {
            [
                grouping.rawValue: .string($0.group), "requests": .number(Double($0.requests)),
                "tokens_in": .number(Double($0.tokensIn)), "tokens_out": .number(Double($0.tokensOut)),
                "cost_usd": .number($0.costUSD), "unpriced_requests": .number(Double($0.unpriced)),
            ]
        }
        return [
            "object": "spend_report", "by": .string(grouping.rawValue),
            "since": .string(SpendQuery.display(query.since)), "until": .string(SpendQuery.display(query.until)),
            "total_usd": .number(lines.reduce(0) { $0 + $1.costUSD }), "data": .array(rows),
        ]
    }

    /// The report as a text table (`switchyard spend`).
    public static func table(_ lines: [SpendLine], by grouping: SpendGrouping) -> String {
        let header = [grouping.rawValue, "requests", "tokens_in", "tokens_out", "cost_usd", "unpriced"]
        var rows = [header]
        for line in lines {
            rows.append([
                line.group, String(line.requests), String(line.tokensIn), String(line.tokensOut),
                String(format: "%.6f", line.costUSD), String(line.unpriced),
            ])
        }
        rows.append([
            "total", String(lines.reduce(0) { $0 + $1.requests }), String(lines.reduce(0) { $0 + $1.tokensIn }),
            String(lines.reduce(0) { $0 + $1.tokensOut }), String(format: "%.6f", lines.reduce(0) { $0 + $1.costUSD }),
            String(lines.reduce(0) { $0 + $1.unpriced }),
        ])
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == 0
                    ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
