/// Decides which provider serves a model name and under what name.
///
/// Order: config-file routes, then the `provider/model` prefix form, then the built-in table,
/// then the default provider. The first match wins.
public struct ModelRouter: Sendable {
    /// The result of routing: the provider and the model name to send it.
    public struct Target: Sendable, Equatable {
        /// The provider chosen.
        public var endpoint: ProviderEndpoint
        /// The model name the client sent.
        public var requestedModel: String
        /// The model name the upstream receives.
        public var upstreamModel: String

        /// Creates a target.
        public init(endpoint: ProviderEndpoint, requestedModel: String, upstreamModel: String) {
            self.endpoint = endpoint
            self.requestedModel = requestedModel
            self.upstreamModel = upstreamModel
        }
    }

    /// Providers by name.
    public let providers: [ProviderID: ProviderEndpoint]
    /// Rules in the order they are tried.
    public let routes: [Route]
    /// The provider for names no rule matches.
    public let defaultProvider: ProviderID

    /// Creates a router over validated providers and routes.
    public init(providers: [ProviderID: ProviderEndpoint], routes: [Route], defaultProvider: ProviderID) {
        self.providers = providers
        self.routes = routes
        self.defaultProvider = defaultProvider
    }

    /// Routes `model`, or throws a 404 in OpenAI's shape when the chosen provider is not configured.
    public func resolve(_ model: String) throws(GatewayError) -> Target {
        let (providerID, upstreamModel) = choose(model)
        guard let endpoint = providers[providerID] else {
            throw .modelNotFound(model, reason: "it routes to provider `\(providerID)`, which is not configured.")
        }
        return Target(endpoint: endpoint, requestedModel: model, upstreamModel: upstreamModel)
    }

    func choose(_ model: String) -> (ProviderID, String) {
        for route in routes where route.origin == .config && route.patterns.contains(where: { $0.matches(model) }) {
            return (route.provider, route.upstreamModel ?? model)
        }
        if let slash = model.firstIndex(of: "/") {
            let prefix = ProviderID(rawValue: String(model[..<slash]))
            let rest = String(model[model.index(after: slash)...])
            if providers[prefix] != nil, !rest.isEmpty {
                return (prefix, rest)
            }
        }
        for route in routes where route.origin == .builtin && route.patterns.contains(where: { $0.matches(model) }) {
            return (route.provider, route.upstreamModel ?? model)
        }
        return (defaultProvider, model)
    }
}
