/// What one model costs, in US dollars per million tokens, and where the figures came from.
/// Cached prompt tokens, cache writes and reasoning tokens have their own rates; absent, they cost
/// what plain prompt or generated tokens cost.
public struct ModelPrice: Sendable, Equatable {
    /// Per million prompt tokens not read from or written to a cache.
    public var input: Double
    /// Per million generated tokens.
    public var output: Double
    /// Per million prompt tokens read from the provider's cache.
    public var cachedInput: Double?
    /// Per million prompt tokens written to the provider's cache.
    public var cacheWrite: Double?
    /// Per million reasoning tokens.
    public var reasoning: Double?
    /// Where the price was read.
    public var source: String
    /// When it was read.
    public var date: String

    /// Creates a price.
    public init(
        input: Double, output: Double, cachedInput: Double? = nil, cacheWrite: Double? = nil,
        reasoning: Double? = nil, source: String = "", date: String = ""
    ) {
        self.input = input
        self.output = output
        self.cachedInput = cachedInput
        self.cacheWrite = cacheWrite
        self.reasoning = reasoning
        self.source = source
        self.date = date
    }

    /// The cost of `usage` in US dollars, each kind of token at its own rate.
    public func dollars(_ usage: TokenUsage) -> Double {
        let cached = min(max(usage.cachedTokens, 0), usage.promptTokens)
        let written = min(max(usage.cacheWriteTokens, 0), usage.promptTokens - cached)
        let reasoningTokens = min(max(usage.reasoningTokens, 0), usage.completionTokens)
        let perMillion =
            Double(max(usage.promptTokens - cached - written, 0)) * input + Double(cached) * (cachedInput ?? input)
            + Double(written) * (cacheWrite ?? input)
            + Double(max(usage.completionTokens - reasoningTokens, 0)) * output
            + Double(reasoningTokens) * (reasoning ?? output)
        return perMillion / 1_000_000
    }

    /// The cost of `usage` in billionths of a dollar, rounded up: the unit budgets count in.
    public func nanodollars(_ usage: TokenUsage) -> Int {
        Self.nanodollars(dollars(usage))
    }

    /// `dollars` in billionths of a dollar, rounded up.
    public static func nanodollars(_ dollars: Double) -> Int {
        let nano = (dollars * 1_000_000_000).rounded(.up)
        return nano >= Double(Int.max) ? .max : Int(max(nano, 0))
    }

    /// The price as `check-config` prints it: `$2.50 in / $10.00 out per 1M (cached $1.25)`.
    public var summary: String {
        var text = "$\(Self.format(input)) in / $\(Self.format(output)) out per 1M tokens"
        var extras: [String] = []
        if let cachedInput { extras.append("cached $\(Self.format(cachedInput))") }
        if let cacheWrite { extras.append("cache write $\(Self.format(cacheWrite))") }
        if let reasoning { extras.append("reasoning $\(Self.format(reasoning))") }
        if !extras.isEmpty { text += " (" + extras.joined(separator: ", ") + ")" }
        return text
    }

    /// A dollar amount to the billionth, with at least two decimals and no trailing zeros beyond
    /// them (`2.50`, `0.075`, `0.000001875`); written without a formatter, as every answer's cost header is.
    public static func format(_ dollars: Double) -> String {
        let nano = Int64((max(dollars, 0) * 1_000_000_000).rounded())
        return String(unsafeUninitializedCapacity: 32) { out in
            var index = 0
            DecimalText.write(nano / 1_000_000_000, 1, then: ".", into: out, at: &index)
            DecimalText.write(nano % 1_000_000_000, 9, into: out, at: &index)
            // Trailing zeros go, but two decimals stay.
            while out[index - 3] != UInt8(ascii: "."), out[index - 1] == UInt8(ascii: "0") { index -= 1 }
            return index
        }
    }
}
