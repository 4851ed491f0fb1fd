import Foundation

extension ConfigLoader {
    func buildProviders(values: SettingValues, file: ConfigFile?) throws(ConfigError) -> [ProviderID: ProviderEndpoint]
    {
        let timeouts = UpstreamTimeouts(
            connectSeconds: try values.seconds(.connectTimeoutSeconds, default: 10),
            firstByteSeconds: try values.optionalSeconds(.upstreamFirstByteTimeoutSeconds),
            idleSeconds: try values.optionalSeconds(.upstreamIdleTimeoutSeconds),
            totalSeconds: try values.seconds(.upstreamTimeoutSeconds, default: 600))
        func builtin(
            _ kind: ProviderKind,
            domain: SettingKey,
            defaultDomain: String,
            port: SettingKey,
            defaultPort: Int,
            tls: SettingKey,
            defaultTLS: Bool,
            key: SettingKey?,
            prefix: String
        ) throws(ConfigError) -> ProviderEndpoint {
            let apiKey = try key.flatMap { k throws(ConfigError) in try values.optionalString(k) }
            return ProviderEndpoint(
                id: ProviderID(rawValue: kind.rawValue),
                kind: kind,
                baseURL: UpstreamBaseURL(
                    tls: try values.bool(tls, default: defaultTLS),
                    host: try values.string(domain, default: defaultDomain),
                    port: try values.port(port, default: defaultPort),
                    pathPrefix: prefix
                ),
                apiKey: apiKey.map(Secret.init),
                apiKeySource: apiKey == nil ? nil : key?.environmentName,
                timeouts: timeouts,
                servesResponses: kind == .openai ? try values.bool(.openaiResponsesAPI, default: true) : false
            )
        }
        let list = [
            try builtin(
                .openai, domain: .openaiDomain, defaultDomain: "api.openai.com", port: .openaiPort, defaultPort: 443,
                tls: .openaiTLS, defaultTLS: true, key: .openaiAPIKey, prefix: "/v1"),
            try builtin(
                .gemini, domain: .geminiDomain, defaultDomain: "generativelanguage.googleapis.com", port: .geminiPort,
                defaultPort: 443, tls: .geminiTLS, defaultTLS: true, key: .geminiAPIKey, prefix: ""),
            try builtin(
                .anthropic, domain: .anthropicDomain, defaultDomain: "api.anthropic.com", port: .anthropicPort,
                defaultPort: 443, tls: .anthropicTLS, defaultTLS: true, key: .anthropicAPIKey, prefix: ""),
            try builtin(
                .ollama, domain: .ollamaDomain, defaultDomain: "localhost", port: .ollamaPort, defaultPort: 11434,
                tls: .ollamaTLS, defaultTLS: false, key: nil, prefix: ""),
        ]
        var providers = Dictionary(uniqueKeysWithValues: list.map { ($0.id, $0) })
        var declared: Set<String> = []
        for (index, p) in (file?.providers ?? []).enumerated() {
            let at = "config file: providers[\(index)] (`\(p.name)`)"
            guard !p.name.isEmpty, !p.name.contains("/") else {
                throw ConfigError("\(at): `name` must be non-empty and contain no `/`")
            }
            guard declared.insert(p.name).inserted else { throw ConfigError("\(at): declared twice") }
            guard let kind = ProviderKind(rawValue: p.kind) else {
                let kinds = ProviderKind.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigError("\(at): unknown provider kind `\(p.kind)` (expected one of \(kinds))")
            }
            let cloud = try cloudAccess(kind, p, at: at)
            guard let url = p.baseURL ?? Self.defaultBaseURL(kind, p) else {
                throw ConfigError("\(at): base_url is required for kind \(kind.rawValue)")
            }
            guard let base = UpstreamBaseURL(parsing: url) else {
                throw ConfigError("\(at): base_url `\(url)` is not an http(s) URL")
            }
            var apiKey: Secret?
            if let env = p.apiKeyEnv {
                guard let value = environment[env], !value.isEmpty else {
                    throw ConfigError("\(at): api_key_env names \(env), which is not set")
                }
                apiKey = Secret(value)
            }
            for (name, value) in [
                ("timeout_seconds", p.timeoutSeconds), ("connect_timeout_seconds", p.connectTimeoutSeconds),
                ("first_byte_timeout_seconds", p.firstByteTimeoutSeconds),
                ("idle_timeout_seconds", p.idleTimeoutSeconds),
            ] {
                if let value, !(value > 0 && value.isFinite) { throw ConfigError("\(at): \(name) must be positive") }
            }
            let total = p.timeoutSeconds ?? timeouts.totalSeconds
            providers[ProviderID(rawValue: p.name)] = ProviderEndpoint(
                id: ProviderID(rawValue: p.name),
                kind: kind,
                baseURL: base,
                apiKey: apiKey,
                apiKeySource: p.apiKeyEnv,
                timeouts: UpstreamTimeouts(
                    connectSeconds: p.connectTimeoutSeconds ?? timeouts.connectSeconds,
                    firstByteSeconds: min(p.firstByteTimeoutSeconds ?? timeouts.firstByteSeconds, total),
                    idleSeconds: min(p.idleTimeoutSeconds ?? timeouts.idleSeconds, total),
                    totalSeconds: total),
                servesResponses: kind == .openai && (p.responsesAPI ?? true)
            )
            providers[ProviderID(rawValue: p.name)]?.cloud = cloud
        }
        return providers
    }
}
