import Foundation
import Testing

@testable import SwitchyardCore

@Suite("Prices: the shipped table, families, cost per request")
struct PriceTableTests {
    static let table = (try? PriceTable.builtIn()) ?? PriceTable()

    static func endpoint(_ id: String, _ kind: ProviderKind) -> ProviderEndpoint {
        ProviderEndpoint(
            id: ProviderID(rawValue: id), kind: kind, baseURL: UpstreamBaseURL(parsing: "http://127.0.0.1:1")!)
    }

    @Test("The shipped table parses, and every price has a source and a date")
    func shipped() throws {
        let table = try PriceTable.builtIn()
        #expect(table.models.count >= 40)
        for (provider, model, price) in table.models {
            #expect(!price.source.isEmpty && !price.date.isEmpty, "\(provider)/\(model)")
            #expect(price.input >= 0 && price.output >= 0, "\(provider)/\(model)")
        }
    }

    @Test(
        "Every built-in route's usual models have a price",
        arguments: [
            ("openai", ProviderKind.openai, "gpt-4o"), ("openai", .openai, "gpt-4o-mini"), ("openai", .openai, "gpt-5"),
            ("openai", .openai, "gpt-5.5"), ("openai", .openai, "o3"), ("openai", .openai, "o4-mini"),
            ("openai", .openai, "o1"), ("openai", .openai, "chatgpt-4o-latest"),
            ("openai", .openai, "text-embedding-3-small"), ("gemini", .gemini, "gemini-2.5-pro"),
            ("gemini", .gemini, "gemini-2.5-flash"), ("gemini", .gemini, "gemini-2.0-flash"),
            ("gemini", .gemini, "text-embedding-004"), ("gemini", .gemini, "gemini-embedding-001"),
            ("anthropic", .anthropic, "claude-sonnet-4-5"), ("anthropic", .anthropic, "claude-opus-4-1"),
            ("anthropic", .anthropic, "claude-haiku-4-5"), ("anthropic", .anthropic, "claude-3-5-haiku"),
        ])
    func builtInRoutes(provider: String, kind: ProviderKind, model: String) {
        guard case .priced = Self.table.lookup(model, at: Self.endpoint(provider, kind)) else {
            Issue.record("\(provider)/\(model) has no price")
            return
        }
    }

    @Test(
        "Date-suffixed and versioned names resolve to their family",
        arguments: [
            ("gpt-4o-2024-08-06", "gpt-4o"), ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
            ("claude-3-5-haiku-latest", "claude-3-5-haiku"), ("gemini-2.0-flash-001", "gemini-2.0-flash"),
            ("gemini-2.5-flash-preview-05-20", "gemini-2.5-flash"), ("claude-opus-4-1@20250805", "claude-opus-4-1"),
            ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ])
    func families(model: String, family: String) {
        let kind: ProviderKind =
            model.hasPrefix("claude") ? .anthropic : model.hasPrefix("gemini") ? .gemini : .openai
        guard case .priced(_, let found) = Self.table.lookup(model, at: Self.endpoint(kind.rawValue, kind)) else {
            Issue.record("\(model) did not resolve")
            return
        }
        #expect(found == family)
    }

    @Test("Ollama and OpenAI-compatible providers are free unless priced; unknown models are unpriced")
    func freeAndUnpriced() {
        #expect(Self.table.lookup("llama3.2", at: Self.endpoint("ollama", .ollama)) == .free)
        #expect(Self.table.lookup("gpt-4o", at: Self.endpoint("vllm", .openai)) == .free)
        #expect(Self.table.lookup("gpt-unknown", at: Self.endpoint("openai", .openai)) == .unpriced)
        // A declared Anthropic under another name is still Anthropic, priced as such.
        guard case .priced = Self.table.lookup("claude-sonnet-4-5", at: Self.endpoint("anthropic-eu", .anthropic))
        else {
            Issue.record("a renamed Anthropic provider lost its prices")
            return
        }
        let priced = Self.table.merging(
            try! PriceTable.entries(
                yaml: "prices:\n  - {provider: vllm, model: llama-70b, input: 0.5, output: 1}", name: "test"))
        guard case .priced(let price, _) = priced.lookup("llama-70b", at: Self.endpoint("vllm", .openai)) else {
            Issue.record("a declared provider's own price was ignored")
            return
        }
        #expect(price.input == 0.5)
    }

    @Test("Cached, cache-written and reasoning tokens are priced at their own rates, never twice")
    func cost() {
        let price = ModelPrice(input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75, reasoning: 20)
        let usage = TokenUsage(
            promptTokens: 1_000_000, completionTokens: 1_000_000, cachedTokens: 400_000, cacheWriteTokens: 100_000,
            reasoningTokens: 250_000)
        // 500k plain input at $3, 400k cached at $0.30, 100k written at $3.75; 750k output at $15, 250k reasoning at $20.
        #expect(abs(price.dollars(usage) - (1.5 + 0.12 + 0.375 + 11.25 + 5)) < 1e-9)
        // Without the extra rates, cached and written tokens cost input, reasoning costs output.
        let plain = ModelPrice(input: 2, output: 8)
        #expect(abs(plain.dollars(usage) - (2 + 8)) < 1e-9)
        #expect(plain.nanodollars(TokenUsage(promptTokens: 1, completionTokens: 0)) == 2_000)
        // Details larger than their totals (a provider's bug) never make a cost negative or double.
        let odd = TokenUsage(promptTokens: 10, completionTokens: 5, cachedTokens: 50, reasoningTokens: 9)
        #expect(price.dollars(odd) >= 0)
    }

    @Test("OpenAI's usage details are read: cached prompt tokens and reasoning tokens")
    func openAIUsage() throws {
        let json = try JSONParser.parse(
            Array(
                #"{"prompt_tokens":100,"completion_tokens":50,"prompt_tokens_details":{"cached_tokens":64},"completion_tokens_details":{"reasoning_tokens":20}}"#
                    .utf8)[...])
        let usage = TokenUsage(json: json)
        #expect(usage == TokenUsage(promptTokens: 100, completionTokens: 50, cachedTokens: 64, reasoningTokens: 20))
    }

    @Test("The config file's prices extend and override the table; bad ones are refused with the reason")
    func configured() throws {
        let path = try TemporaryFile.write(
            "prices:\n  - {provider: openai, model: gpt-4o, input: 1, output: 2, source: our contract, date: 2026-11}\n",
            suffix: ".yaml")
        let config = try ConfigLoader(environment: [:], configPath: path).load()
        guard case .priced(let price, _) = config.spend.prices.lookup("gpt-4o", at: Self.endpoint("openai", .openai))
        else {
            Issue.record("no price")
            return
        }
        #expect(price.input == 1 && price.source == "our contract")
        let bad = try TemporaryFile.write(
            "prices:\n  - {provider: openai, model: x, input: -1, output: 2}\n", suffix: ".yaml")
        #expect(throws: ConfigError.self) { try ConfigLoader(environment: [:], configPath: bad).load() }
    }
}

@Suite("Spend formatting: dollars, days and timestamps without formatters")
struct SpendFormattingTests {
    @Test("Dollars print to the billionth with at least two decimals")
    func dollars() {
        #expect(ModelPrice.format(2.5) == "2.50")
        #expect(ModelPrice.format(0.075) == "0.075")
        #expect(ModelPrice.format(0.00000375) == "0.00000375")
        #expect(ModelPrice.format(0.000000001) == "0.000000001")
        #expect(ModelPrice.format(1234) == "1234.00")
        #expect(ModelPrice.format(0) == "0.00")
    }

    @Test("Days and timestamps agree with Foundation's formatter, before and after 1970")
    func timestamps() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for seconds in [0, 1_798_761_599.999, 1_764_763_145.123, 951_782_400.5, -1.5, 4_102_444_800] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(LedgerRow.timestamp(date) == formatter.string(from: date), "\(seconds)")
            #expect(
                LedgerRow.day(of: date)
                    == formatter.string(from: date).prefix(10).replacingOccurrences(of: "-", with: ""))
        }
        // Years of more than four digits are written whole, and year 0 is padded like any other.
        let far = Date(timeIntervalSince1970: 253_402_300_800.25)
        #expect(LedgerRow.timestamp(far) == "10000-01-01T00:00:00.250Z")
        #expect(LedgerRow.day(of: far) == "100000101")
        #expect(LedgerRow.timestamp(Date(timeIntervalSince1970: -62_167_219_200)) == "0000-01-01T00:00:00.000Z")
    }
}
