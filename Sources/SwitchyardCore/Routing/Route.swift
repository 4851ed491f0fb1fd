/// One place a route can send a request: a provider (with its own address and key) and the
/// model name it receives there, with a load-balancing weight.
public struct Deployment: Sendable, Equatable {
    /// The provider that serves it.
    public var provider: ProviderID
    /// The model name sent upstream instead of the requested one, if set.
    public var model: String?
    /// Its share of the route's traffic relative to the route's other deployments.
    public var weight: Int

    /// Creates a deployment.
    public init(provider: ProviderID, model: String? = nil, weight: Int = 1) {
        self.provider = provider
        self.model = model
        self.weight = weight
    }
}

/// One routing rule: model names matching any pattern go to one of its deployments (spread by
/// weight), and when that fails, to its other deployments and then its fallbacks, in order.
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
    /// Where traffic goes, by weight; never empty.
    public var deployments: [Deployment]
    /// Tried in order when every deployment failed or is cooling down.
    public var fallbacks: [Deployment]
    /// Where the rule came from.
    public var origin: Origin

    /// Creates a route to one provider, optionally renaming the model.
    public init(patterns: [ModelPattern], provider: ProviderID, upstreamModel: String? = nil, origin: Origin) {
        self.init(
            patterns: patterns, deployments: [Deployment(provider: provider, model: upstreamModel)], fallbacks: [],
            origin: origin)
    }

    /// Creates a route over weighted deployments and fallbacks.
    public init(patterns: [ModelPattern], deployments: [Deployment], fallbacks: [Deployment], origin: Origin) {
        self.patterns = patterns
        self.deployments = deployments
        self.fallbacks = fallbacks
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
