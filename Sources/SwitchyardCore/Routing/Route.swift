/// One routing rule: model names matching any pattern go to a provider, optionally renamed.
public struct Route: Sendable, Equatable {
    /// Where a rule came from, shown by `check-config`.
    public enum Origin: String, Sendable {
        /// Declared in the config file.
        case config
        /// Part of the built-in table.
        case builtin = "default"
    }

    /// Patterns; the first route with any matching pattern wins.
    public var patterns: [ModelPattern]
    /// The provider that serves matching models.
    public var provider: ProviderID
    /// The model name sent upstream instead of the requested one (an alias), if set.
    public var upstreamModel: String?
    /// Where the rule came from.
    public var origin: Origin

    /// Creates a route.
    public init(patterns: [ModelPattern], provider: ProviderID, upstreamModel: String? = nil, origin: Origin) {
        self.patterns = patterns
        self.provider = provider
        self.upstreamModel = upstreamModel
        self.origin = origin
    }

    /// The contract's default table, in order. Gemini's list comes first because it names
    /// `text-embedding-004`, which OpenAI's `text-embedding-*` would otherwise take.
    public static let builtinTable: [Route] = [
        Route(
            patterns: ["gemini-*", "text-embedding-004", "gemini-embedding-*"].map(ModelPattern.init),
            provider: "gemini",
            origin: .builtin
        ),
        Route(
            patterns: ["gpt-*", "o1*", "o3*", "o4*", "chatgpt-*", "text-embedding-*"].map(ModelPattern.init),
            provider: "openai",
            origin: .builtin
        ),
        Route(patterns: [ModelPattern("claude-*")], provider: "anthropic", origin: .builtin),
    ]
}
