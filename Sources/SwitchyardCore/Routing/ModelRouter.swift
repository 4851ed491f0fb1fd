/// Decides which provider serves a model name and under what name.
///
/// Order: config-file routes, then the `provider/model` prefix form, then the built-in table,
/// then the default provider. The first match wins.
public struct ModelRouter: Sendable {
    /// The result of routing: the provider and the model name to send it.
    public struct Target: Sendable, Equatable {
        /// The provider chosen.
        public var endpoint: ProviderEndpoint {
            didSet { deploymentKey = Self.deploymentKey(endpoint, upstreamModel) }
        }
        /// The model name the client sent.
        public var requestedModel: String
        /// The model name the upstream receives.
        public var upstreamModel: String {
            didSet { deploymentKey = Self.deploymentKey(endpoint, upstreamModel) }
        }
        /// Names the deployment for health tracking: provider and upstream model. Kept rather than
        /// computed: a request looks it up several times.
        public private(set) var deploymentKey: String

        /// Creates a target.
        public init(endpoint: ProviderEndpoint, requestedModel: String, upstreamModel: String) {
            self.endpoint = endpoint
            self.requestedModel = requestedModel
            self.upstreamModel = upstreamModel
            self.deploymentKey = Self.deploymentKey(endpoint, upstreamModel)
        }

        /// The deployment key of `upstreamModel` at `endpoint`.
        private static func deploymentKey(_ endpoint: ProviderEndpoint, _ upstreamModel: String) -> String {
            "\(endpoint.id)/\(upstreamModel)"
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

    /// Routes `model` to its first deployment, or throws a 404 in OpenAI's shape when the chosen
    /// provider is not configured.
    public func resolve(_ model: String) throws(GatewayError) -> Target {
        let (route, upstreamModel) = choose(model)
        return try target(route.deployments[0], model: model, defaultModel: upstreamModel)
    }

    /// Every target `model` may be sent to, in the order to try them: one deployment chosen by
    /// weight (`pick` in 0..<1 selects it), the route's other deployments, then its fallbacks.
    /// Deployments for which `isAvailable` is false (cooling down) are left out; the list may be empty.
    public func plan(_ model: String, pick: Double, isAvailable: (Target) -> Bool) throws(GatewayError) -> [Target] {
        let (route, upstreamModel) = choose(model)
        if route.deployments.count == 1, route.fallbacks.isEmpty, route.deployments[0].weight > 0 {
            // The common case, without the weighted pick's intermediate arrays.
            let only = try target(route.deployments[0], model: model, defaultModel: upstreamModel)
            return isAvailable(only) ? [only] : []
        }
        var deployments: [Target] = []
        for deployment in route.deployments {
            deployments.append(try target(deployment, model: model, defaultModel: upstreamModel))
        }
        let open = deployments.indices.filter { isAvailable(deployments[$0]) }
        var ordered: [Target] = []
        let total = open.reduce(0) { $0 + route.deployments[$1].weight }
        if total > 0 {
            var remaining = pick * Double(total)
            let chosen =
                open.first { index in
                    remaining -= Double(route.deployments[index].weight)
                    return remaining < 0
                } ?? open[open.count - 1]
            ordered.append(deployments[chosen])
            ordered += open.filter { $0 != chosen }.map { deployments[$0] }
        }
        for fallback in route.fallbacks {
            let candidate = try target(fallback, model: model, defaultModel: model)
            if isAvailable(candidate) { ordered.append(candidate) }
        }
        return ordered
    }

    private func target(_ deployment: Deployment, model: String, defaultModel: String) throws(GatewayError) -> Target {
        guard let endpoint = providers[deployment.provider] else {
            throw .modelNotFound(
                model, reason: "it routes to provider `\(deployment.provider)`, which is not configured.")
        }
        return Target(endpoint: endpoint, requestedModel: model, upstreamModel: deployment.model ?? defaultModel)
    }

    /// The route for `model` and the model name its deployments default to (the part after a
    /// `provider/` prefix, else the name itself).
    func choose(_ model: String) -> (Route, String) {
        if let index = firstRoute(.config, matching: model) { return (routes[index], model) }
        if let slash = model.utf8.firstIndex(of: UInt8(ascii: "/")) {
            let prefix = ProviderID(rawValue: String(model[..<slash]))
            let rest = String(model[model.utf8.index(after: slash)...])
            if providers[prefix] != nil, !rest.isEmpty {
                return (Route(patterns: [], provider: prefix, origin: .config), rest)
            }
        }
        if let index = firstRoute(.builtin, matching: model) { return (routes[index], model) }
        return (Route(patterns: [], provider: defaultProvider, origin: .builtin), model)
    }

    /// The position of the first route of `origin` with a pattern matching `model`. The routes are
    /// read in place by index: iterating them would copy each one passed over.
    private func firstRoute(_ origin: Route.Origin, matching model: String) -> Int? {
        routes.indices.first { routes[$0].origin == origin && routes[$0].patterns.anyMatches(model) }
    }
}
