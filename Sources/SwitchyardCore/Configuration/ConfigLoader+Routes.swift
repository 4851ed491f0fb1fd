extension ConfigLoader {
    /// The config file's routes, in order; each names declared providers only.
    func buildRoutes(
        _ entries: [ConfigFile.RouteEntry], providers: [ProviderID: ProviderEndpoint]
    ) throws(ConfigError) -> [Route] {
        var routes: [Route] = []
        for (index, entry) in entries.enumerated() {
            let at = "config file: routes[\(index)]"
            guard !entry.match.isEmpty, entry.match.allSatisfy({ !$0.isEmpty }) else {
                throw ConfigError("\(at).match must list at least one non-empty pattern")
            }
            func deployment(_ d: ConfigFile.DeploymentEntry, _ place: String) throws(ConfigError) -> Deployment {
                guard providers[ProviderID(rawValue: d.provider)] != nil else {
                    throw ConfigError("\(place) names provider `\(d.provider)`, which is not declared")
                }
                guard (1...1_000_000).contains(d.weight ?? 1) else {
                    throw ConfigError("\(place).weight must be a whole number from 1 to 1000000")
                }
                return Deployment(provider: ProviderID(rawValue: d.provider), model: d.model, weight: d.weight ?? 1)
            }
            var deployments: [Deployment] = []
            if let provider = entry.provider {
                deployments.append(try deployment(.init(provider: provider, model: entry.model), at))
            }
            for (i, d) in entry.deployments.enumerated() {
                deployments.append(try deployment(d, "\(at).deployments[\(i)]"))
            }
            guard !deployments.isEmpty else {
                throw ConfigError("\(at) needs a `provider` or a `deployments` list")
            }
            var fallbacks: [Deployment] = []
            for (i, d) in entry.fallbacks.enumerated() {
                fallbacks.append(try deployment(d, "\(at).fallbacks[\(i)]"))
            }
            routes.append(
                Route(
                    patterns: entry.match.map(ModelPattern.init), deployments: deployments, fallbacks: fallbacks,
                    origin: .config))
        }
        return routes
    }
}
