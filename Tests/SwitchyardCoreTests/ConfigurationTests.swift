import Testing

@testable import SwitchyardCore

@Suite("Configuration")
struct ConfigurationTests {
    @Test("Built-in defaults without any file or environment")
    func defaults() throws {
        let config = try ConfigLoader(environment: [:]).load()
        #expect(config.host == "0.0.0.0")
        #expect(config.proxyPort == 8080)
        #expect(config.metricsPort == 9090)
        #expect(config.maxBodyBytes == 10 * 1024 * 1024)
        #expect(config.rateLimit == RateLimitSettings())
        let openai = try #require(config.router.providers["openai"])
        #expect(openai.baseURL == UpstreamBaseURL(tls: true, host: "api.openai.com", port: 443, pathPrefix: "/v1"))
        #expect(openai.apiKey == nil)
        let ollama = try #require(config.router.providers["ollama"])
        #expect(ollama.baseURL.description == "http://localhost:11434")
        #expect(config.router.providers["gemini"]?.baseURL.host == "generativelanguage.googleapis.com")
        #expect(config.router.providers["anthropic"]?.baseURL.host == "api.anthropic.com")
    }

    @Test("Flag beats environment beats file beats default")
    func precedence() throws {
        let file = try TemporaryFile.write(
            """
            proxy_port: 7001
            metrics_port: 7002
            log_level: debug
            max_tokens: 55
            """, suffix: ".yaml")
        let environment = ["PROXY_PORT": "7101", "METRICS_PORT": "7102", "SWITCHYARD_CONFIG": file]
        let config = try ConfigLoader(flags: [.proxyPort: "7201"], environment: environment).load()
        #expect(config.proxyPort == 7201)  // flag
        #expect(config.metricsPort == 7102)  // environment
        #expect(config.logLevel == "debug")  // file
        #expect(config.rateLimit.maxTokens == 55)  // file
        #expect(config.rateLimit.windowMinutes == 60)  // default
        #expect(config.configFile == file)
    }

    @Test("Listener settings: defaults, and every one read")
    func listener() throws {
        let defaults = try ConfigLoader(environment: [:]).load().listener
        #expect(defaults == ListenerSettings())
        #expect(defaults.tls == nil && defaults.maxHeaderCount == 100 && defaults.maxConnectionsPerAddress == 1024)
        let pem = try TemporaryFile.write("-----BEGIN CERTIFICATE-----\n", suffix: ".pem")
        let listener = try ConfigLoader(environment: [
            "TLS_CERT_FILE": pem, "TLS_KEY_FILE": pem, "MAX_REQUEST_LINE_BYTES": "1000", "MAX_HEADER_BYTES": "4096",
            "MAX_HEADER_COUNT": "40", "MAX_CONNECTIONS_PER_ADDRESS": "0", "CLIENT_IDLE_TIMEOUT_SECONDS": "2.5",
        ]).load().listener
        #expect(listener.tls == .init(certificateFile: pem, privateKeyFile: pem))
        #expect(listener.maxRequestLineBytes == 1000 && listener.maxHeaderBytes == 4096)
        #expect(listener.maxHeaderCount == 40 && listener.maxConnectionsPerAddress == 0)
        #expect(listener.idleTimeoutSeconds == 2.5)
    }

    @Test("Every contract environment variable is read")
    func contractVariables() throws {
        let config = try ConfigLoader(environment: [
            "OPENAI_DOMAIN": "127.0.0.1", "OPENAI_PORT": "8443", "OPENAI_TLS": "false", "OPENAI_API_KEY": "sk-x",
            "GEMINI_DOMAIN": "g.local", "GEMINI_PORT": "1", "GEMINI_TLS": "false", "GEMINI_API_KEY": "g",
            "OLLAMA_DOMAIN": "o.local", "OLLAMA_PORT": "2", "OLLAMA_TLS": "true",
            "ANTHROPIC_DOMAIN": "a.local", "ANTHROPIC_PORT": "3", "ANTHROPIC_TLS": "false", "ANTHROPIC_API_KEY": "a",
            "ENABLE_RATE_LIMITING": "true", "RATE_LIMIT_WINDOW_MIN": "5", "MAX_TOKENS": "99", "USER_HEADER": "X-User",
            "REDIS_URL": "redis://127.0.0.1:6379/0", "LOG_LEVEL": "warning", "ALLOW_UNAUTHENTICATED": "true",
            "HOST": "127.0.0.1",
        ]).load()
        #expect(config.router.providers["openai"]?.baseURL.description == "http://127.0.0.1:8443/v1")
        #expect(config.router.providers["openai"]?.apiKey == Secret("sk-x"))
        #expect(config.router.providers["gemini"]?.baseURL.description == "http://g.local:1")
        #expect(config.router.providers["ollama"]?.baseURL.description == "https://o.local:2")
        #expect(config.router.providers["anthropic"]?.baseURL.description == "http://a.local:3")
        #expect(config.router.providers["anthropic"]?.apiKeySource == "ANTHROPIC_API_KEY")
        #expect(config.rateLimit.enabled)
        #expect(config.rateLimit.windowMinutes == 5)
        #expect(config.rateLimit.maxTokens == 99)
        #expect(config.rateLimit.userHeader == "x-user")
        #expect(config.rateLimit.redisURL == "redis://127.0.0.1:6379/0")
        #expect(config.logLevel == "warning")
        #expect(config.allowUnauthenticated)
        #expect(config.host == "127.0.0.1")
    }

    @Test(
        "Invalid values stop start-up with one clear line",
        arguments: [
            (["PROXY_PORT": "abc"], "PROXY_PORT: `abc` is not a port number"),
            (["METRICS_PORT": "70000"], "METRICS_PORT: `70000` is not a port number"),
            (["OPENAI_TLS": "maybe"], "OPENAI_TLS: `maybe` is not a boolean"),
            (["LOG_LEVEL": "loud"], "LOG_LEVEL: `loud` is not one of"),
            (["LOG_FORMAT": "xml"], "LOG_FORMAT: `xml` is not text or json"),
            (["MAX_TOKENS": "-1"], "MAX_TOKENS: `-1` is not a whole number"),
            (["REDIS_URL": "http://x"], "REDIS_URL: `http://x` must look like redis://"),
            (["SWITCHYARD_CONFIG": "/nonexistent/switchyard.yaml"], "cannot be read"),
            (["DEFAULT_PROVIDER": "nobody"], "DEFAULT_PROVIDER: `nobody` is not a configured provider"),
            (["TLS_CERT_FILE": "/etc/hostname"], "TLS_CERT_FILE and TLS_KEY_FILE must be set together"),
            (
                ["TLS_CERT_FILE": "/nonexistent.pem", "TLS_KEY_FILE": "/etc/hostname"],
                "TLS_CERT_FILE: `/nonexistent.pem` cannot be read"
            ),
            (["MAX_HEADER_COUNT": "3"], "MAX_HEADER_COUNT: `3` is not a whole number from 8"),
            (["MAX_CONNECTIONS_PER_ADDRESS": "-1"], "MAX_CONNECTIONS_PER_ADDRESS: `-1`"),
            (["CLIENT_IDLE_TIMEOUT_SECONDS": "0"], "CLIENT_IDLE_TIMEOUT_SECONDS: `0` is not a positive number"),
        ])
    func invalidValues(environment: [String: String], message: String) {
        #expect {
            try ConfigLoader(environment: environment).load()
        } throws: { error in
            let text = (error as? ConfigError)?.message ?? ""
            return text.contains(message) && !text.contains("\n")
        }
    }

    @Test(
        "Config file mistakes are reported with where they are",
        arguments: [
            ("providers:\n  - name: x\n    kind: watsonx\n    base_url: http://h", "unknown provider kind `watsonx`"),
            ("providers:\n  - name: x\n    kind: bedrock\n    base_url: http://h", "region is required"),
            (
                "providers:\n  - name: x\n    kind: openai\n    base_url: ftp://h",
                "base_url `ftp://h` is not an http(s) URL"
            ),
            (
                "providers:\n  - name: x\n    kind: openai\n    base_url: http://h\n    api_key_env: NOPE_UNSET",
                "NOPE_UNSET, which is not set"
            ),
            ("routes:\n  - match: a\n    provider: ghost", "names provider `ghost`, which is not declared"),
            ("proxy_prot: 1", "unknown setting `proxy_prot`"),
            ("providers:\n  - kind: openai\n    base_url: http://h", "`providers[0].name` is required"),
            ("- a\n- b", "the top level must be a mapping"),
            ("a: [unclosed", "not valid YAML"),
            ("rate_limits:\n  - name: b\n    match: x", "rate_limits[0] (`b`): give max_tokens, max_requests or both"),
            ("rate_limits:\n  - name: b\n    max_tokens: 0", "max_tokens must be at least 1"),
            ("rate_limits:\n  - name: b\n    provider: ghost\n    max_requests: 1", "provider `ghost` is not declared"),
            (
                "rate_limits:\n  - name: b\n    max_requests: 1\n  - name: b\n    max_requests: 2",
                "unique, non-empty name"
            ),
            ("max_requests: 0", "MAX_REQUESTS: `0` is not a whole number"),
        ])
    func fileErrors(yaml: String, message: String) throws {
        let path = try TemporaryFile.write(yaml, suffix: ".yaml")
        #expect {
            try ConfigLoader(environment: [:], configPath: path).load()
        } throws: { error in
            (error as? ConfigError)?.message.contains(message) == true
        }
    }

    @Test("Budgets come from the file: per user, per model or route, per key")
    func budgets() throws {
        let yaml = """
            enable_rate_limiting: true
            max_requests: 30
            rate_limits:
              - name: big
                match: ["gpt-4o*", "o1*"]
                max_tokens: 5000
              - name: local
                provider: ollama
                max_requests: 100
            gateway_keys:
              - name: team
                sha256: \(String(repeating: "ab", count: 32))
                max_tokens: 90000
                max_requests: 600
            """
        let config = try ConfigLoader(environment: [:], configPath: try TemporaryFile.write(yaml, suffix: ".yaml"))
            .load()
        #expect(config.isRateLimited)
        #expect(config.rateLimit.policy.perUser == BudgetLimits(tokens: 1000, requests: 30))
        #expect(
            config.rateLimit.budgets == [
                ModelBudget(
                    name: "big", models: [ModelPattern("gpt-4o*"), ModelPattern("o1*")], limits: .init(tokens: 5000)),
                ModelBudget(name: "local", models: [], provider: "ollama", limits: .init(requests: 100)),
            ])
        #expect(config.keyring.keys[0].limits == BudgetLimits(tokens: 90000, requests: 600))
        // Without any budget nothing is limited.
        #expect(!(try ConfigLoader(environment: [:]).load().isRateLimited))
    }

    @Test("The routing table report names providers and routes but never keys")
    func report() throws {
        let config = try ConfigLoader(environment: ["OPENAI_API_KEY": "sk-secret-value"]).load()
        let text = RoutingTableReport(config: config).text
        #expect(text.contains("key from OPENAI_API_KEY"))
        #expect(!text.contains("sk-secret-value"))
        let lines = text.split(separator: "\n")
        #expect(
            lines.contains {
                $0.contains("gpt-*, o1*, o3*, o4*, chatgpt-*, text-embedding-*") && $0.hasSuffix("-> openai [default]")
            })
        #expect(text.contains("anything else"))
        #expect(text.contains("<provider>/<model>"))
    }

    @Test("The shipped example config is valid")
    func exampleConfig() throws {
        let path = #filePath.replacingOccurrences(
            of: "Tests/SwitchyardCoreTests/ConfigurationTests.swift", with: "examples/switchyard.yaml")
        // As a newcomer runs it: nothing set in the environment.
        let config = try ConfigLoader(environment: [:], configPath: path).load()
        #expect(config.router.routes.contains { $0.origin == .config })
    }
}
