import Foundation
import SwitchyardEmbedded
import Yams

/// The prices of models by provider: the table shipped with the binary (`Sources/SwitchyardEmbedded/data/prices.yaml`, embedded)
/// with the config file's `prices` laid over it. A date-suffixed model name resolves to its family;
/// Ollama, and OpenAI-compatible providers declared under their own name, are free unless priced.
public struct PriceTable: Sendable, Equatable {
    /// One priced model in a price file.
    public struct Entry: Decodable, Sendable, Equatable {
        /// The provider's name (`openai`, `anthropic`, `gemini`, or a declared provider).
        public var provider: String
        /// The model, or its family.
        public var model: String
        /// Dollars per million prompt tokens.
        public var input: Double
        /// Dollars per million generated tokens (none for embeddings).
        public var output: Double?
        /// Dollars per million cached prompt tokens.
        public var cachedInput: Double?
        /// Dollars per million prompt tokens written to the cache.
        public var cacheWrite: Double?
        /// Dollars per million reasoning tokens.
        public var reasoning: Double?
        /// Where the price was read.
        public var source: String?
        /// When it was read.
        public var date: String?

        enum CodingKeys: String, CodingKey {
            case provider, model, input, output, reasoning, source, date
            case cachedInput = "cached_input"
            case cacheWrite = "cache_write"
        }

        /// The entry's price.
        var price: ModelPrice {
            ModelPrice(
                input: input, output: output ?? 0, cachedInput: cachedInput, cacheWrite: cacheWrite,
                reasoning: reasoning,
                source: source ?? "config file", date: date ?? "")
        }
    }

    /// What the table says about one model.
    public enum Lookup: Sendable, Equatable {
        /// Priced: the price, and the table's name for the model (its family).
        case priced(ModelPrice, family: String)
        /// Free by nature (a local or self-hosted provider), unless priced.
        case free
        /// No price known: never counted as $0 silently.
        case unpriced
    }

    /// Prices by provider, then by model or family.
    private var prices: [String: [String: ModelPrice]]

    /// A table of `entries` (later entries replace earlier ones for the same provider and model).
    public init(_ entries: [Entry] = []) {
        prices = [:]
        for entry in entries { prices[entry.provider, default: [:]][entry.model] = entry.price }
    }

    /// The entries of a price file's text (`prices:` list); `name` is used in messages.
    public static func entries(yaml: String, name: String) throws(ConfigError) -> [Entry] {
        struct File: Decodable { var prices: [Entry]? }
        do {
            return try YAMLDecoder().decode(File.self, from: yaml).prices ?? []
        } catch let error as DecodingError {
            throw ConfigError("\(name): \(ConfigFile.describe(error))")
        } catch {
            throw ConfigError("\(name): \(error)")
        }
    }

    /// The table shipped with the binary, read once per process.
    public static func builtIn() throws(ConfigError) -> PriceTable {
        try shipped.get()
    }

    private static let shipped = Result { () throws(ConfigError) -> PriceTable in
        var size = 0
        guard let bytes = switchyard_embedded(SwitchyardEmbeddedPrices, &size), size > 0 else {
            throw ConfigError("the built-in price table (prices.yaml) is missing from the build")
        }
        let text = String(decoding: UnsafeBufferPointer(start: bytes, count: size), as: UTF8.self)
        return PriceTable(try entries(yaml: text, name: "prices.yaml"))
    }

    /// This table with `entries` laid over it.
    public func merging(_ entries: [Entry]) -> PriceTable {
        var merged = self
        for entry in entries { merged.prices[entry.provider, default: [:]][entry.model] = entry.price }
        return merged
    }

    /// Every priced (provider, model) pair, sorted.
    public var models: [(provider: String, model: String, price: ModelPrice)] {
        prices.flatMap { provider, models in models.map { (provider, $0.key, $0.value) } }
            .sorted { ($0.provider, $0.model) < ($1.provider, $1.model) }
    }

    /// The price of `model` served by `endpoint`: the endpoint's own prices first, then (for
    /// OpenAI, Anthropic and Gemini themselves) the prices of its kind; Ollama and OpenAI-compatible
    /// providers declared under their own name are free unless priced.
    public func lookup(_ model: String, at endpoint: ProviderEndpoint) -> Lookup {
        if let found = find(model, in: prices[endpoint.id.rawValue]) { return .priced(found.1, family: found.0) }
        switch endpoint.kind {
        case .ollama:
            return .free
        case .openai where endpoint.id.rawValue != ProviderKind.openai.rawValue:
            return .free
        case .openai, .anthropic, .gemini:
            return lookup(model, inTableOf: endpoint.kind)
        case .azure:
            return lookup(model, inTableOf: .openai)
        case .vertex:
            return lookup(model, inTableOf: model.hasPrefix("claude") ? .anthropic : .gemini)
        case .bedrock:
            // `us.anthropic.claude-sonnet-4-5-20250929-v1:0` is Anthropic's `claude-sonnet-4-5-20250929`.
            var base = Substring(model.split(separator: "/").last ?? Substring(model))
            for region in ["us.", "eu.", "apac.", "global.", "jp.", "au."] where base.hasPrefix(region) {
                base = base.dropFirst(region.count)
            }
            guard base.hasPrefix("anthropic.") else { return .unpriced }
            base = base.dropFirst("anthropic.".count)
            if let version = base.range(of: "-v", options: .backwards), base[version.upperBound...].contains(":") {
                base = base[..<version.lowerBound]
            }
            return lookup(String(base), inTableOf: .anthropic)
        }
    }

    /// `model` in the built-in table of `kind`.
    private func lookup(_ model: String, inTableOf kind: ProviderKind) -> Lookup {
        if let found = find(model, in: prices[kind.rawValue]) { return .priced(found.1, family: found.0) }
        return .unpriced
    }

    /// `model` or the first of its families in `table`.
    private func find(_ model: String, in table: [String: ModelPrice]?) -> (String, ModelPrice)? {
        guard let table else { return nil }
        if let price = table[model] { return (model, price) }
        for name in Self.families(of: model).dropFirst() {
            if let price = table[name] { return (name, price) }
        }
        return nil
    }

    /// `model` and the names it resolves to as date, version and channel suffixes come off, most
    /// specific first: `gpt-4o-2024-08-06` → `gpt-4o`; `claude-sonnet-4-5-20250929@v1` →
    /// `claude-sonnet-4-5`; `gemini-2.0-flash-001` → `gemini-2.0-flash`; `gpt-4o-latest` → `gpt-4o`.
    public static func families(of model: String) -> [String] {
        var names = [model]
        var current = model
        if let at = current.firstIndex(of: "@") {
            current = String(current[..<at])
            names.append(current)
        }
        while let shorter = strippingSuffix(current) {
            current = shorter
            names.append(current)
        }
        return names
    }

    /// `name` without its last suffix when that is a date (`-2024-08-06`, `-20241022`,
    /// `-05-20`), a version (`-001`), or a channel (`-latest`, `-preview`, `-exp`); nil otherwise.
    static func strippingSuffix(_ name: String) -> String? {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count > 1 else { return nil }
        func digits(_ part: Substring, _ counts: Set<Int>) -> Bool {
            counts.contains(part.count) && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber)
        }
        let n = parts.count
        // -YYYY-MM-DD
        if n > 3, digits(parts[n - 3], [4]), digits(parts[n - 2], [2]), digits(parts[n - 1], [2]) {
            return parts[..<(n - 3)].joined(separator: "-")
        }
        // -MM-DD (Gemini previews: gemini-2.5-flash-preview-05-20)
        if n > 2, digits(parts[n - 2], [2]), digits(parts[n - 1], [2]) {
            return parts[..<(n - 2)].joined(separator: "-")
        }
        let last = parts[n - 1]
        if digits(last, [8]) || digits(last, [3]) || digits(last, [4]) || ["latest", "preview", "exp"].contains(last) {
            return parts[..<(n - 1)].joined(separator: "-")
        }
        return nil
    }
}
