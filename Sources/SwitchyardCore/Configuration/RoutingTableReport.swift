/// The human-readable routing table `check-config` prints: listeners, providers (never keys)
/// and the routes in the order they are tried.
public struct RoutingTableReport: Sendable {
    /// The configuration to describe.
    public let config: GatewayConfig

    /// Creates a report.
    public init(config: GatewayConfig) { self.config = config }

    /// The report text.
    public var text: String {
        var lines: [String] = []
        lines.append("config file: \(config.configFile ?? "none")")
        var listen = "listen: \(config.host):\(config.proxyPort)  metrics: \(config.host):\(config.metricsPort)"
        if let admin = config.spend.adminPort {
            listen += "  admin: \(config.host):\(admin) (console and admin API"
            listen += config.spend.storesKeys ? "; gateway keys also from the database)" : ")"
        }
        lines.append(listen)
        if let endpoint = config.tracing.endpoint {
            let tracing = config.tracing
            let ratio = tracing.sampler.hasSuffix("traceidratio") ? " \(tracing.samplerRatio)" : ""
            lines.append(
                "traces: OTLP \(tracing.wireProtocol) to \(endpoint) as `\(tracing.serviceName)`, sampler \(tracing.sampler)\(ratio)"
                    + (tracing.captureContent ? ", prompts and completions recorded" : ""))
        }
        lines.append("")
        lines.append("providers:")
        let providers = config.router.providers.values.sorted { $0.id.rawValue < $1.id.rawValue }
        let width = providers.map(\.id.rawValue.count).max() ?? 0
        for p in providers {
            var auth = p.apiKeySource.map { "key from \($0)" } ?? "client credentials passed through"
            switch p.cloud {
            case .azure(let azure)?:
                let endpoint =
                    azure.apiVersion == "v1"
                    ? "/openai/v1/" : "/openai/deployments/{deployment}/ api-version \(azure.apiVersion)"
                auth =
                    "\(endpoint), \(azure.bearer ? "bearer token" : "api-key") "
                    + (p.apiKeySource.map { "from \($0)" } ?? "from the client")
                if !azure.deployments.isEmpty {
                    auth +=
                        ", deployments "
                        + azure.deployments.sorted { $0.key < $1.key }.map { "\($0.key)->\($0.value)" }.joined(
                            separator: " ")
                }
            case .bedrock(let bedrock)?: auth = "region \(bedrock.region), AWS credentials from \(bedrock.source)"
            case .vertex(let vertex)?:
                let kind =
                    if case .serviceAccount = vertex.credentials { "service account key" } else { "access token" }
                auth = "project \(vertex.project), location \(vertex.location), \(kind) from \(vertex.source)"
            case nil: break
            }
            lines.append(
                "  \(pad(p.id.rawValue, width))  \(pad(p.kind.rawValue, 9))  \(p.baseURL)  (\(auth); timeouts: connect \(format(p.timeouts.connectSeconds))s, first byte \(format(p.timeouts.firstByteSeconds))s, idle \(format(p.timeouts.idleSeconds))s, total \(format(p.timeouts.totalSeconds))s)"
            )
        }
        lines.append("")
        lines.append("routes (first match wins):")
        var rows: [(String, String)] = []
        for route in config.router.routes where route.origin == .config {
            rows.append(row(route))
        }
        rows.append(("<provider>/<model>", "that provider, model after the slash [prefix]"))
        for route in config.router.routes where route.origin == .builtin {
            rows.append(row(route))
        }
        rows.append(("anything else", "\(config.router.defaultProvider) [default]"))
        let patternWidth = rows.map(\.0.count).max() ?? 0
        for (index, r) in rows.enumerated() {
            lines.append("  \(pad(String(index + 1) + ".", 3)) \(pad(r.0, patternWidth))  -> \(r.1)")
        }
        return lines.joined(separator: "\n")
    }

    private func row(_ route: Route) -> (String, String) {
        let patterns = route.patterns.map(\.text).joined(separator: ", ")
        func describe(_ d: Deployment, weighted: Bool) -> String {
            let rewrite = d.model.map { " as `\($0)`" } ?? ""
            return "\(d.provider)\(rewrite)" + (weighted ? " (weight \(d.weight))" : "")
        }
        var target = route.deployments.map { describe($0, weighted: route.deployments.count > 1) }
            .joined(separator: " | ")
        if !route.fallbacks.isEmpty {
            target += ", then " + route.fallbacks.map { describe($0, weighted: false) }.joined(separator: ", then ")
        }
        return (patterns, "\(target) [\(route.origin.rawValue)]")
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    private func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
