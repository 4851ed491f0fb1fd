import Foundation
import SwitchyardCore
import Synchronization
import Testing

@Suite("Reliability: retry policy, circuit breaker, deployments, settings")
struct ReliabilityTests {
    @Test("Backoff is a jittered exponential ceiling, capped; a longer Retry-After wins")
    func backoff() {
        let policy = RetryPolicy(maxRetries: 3, budgetSeconds: 30)
        #expect(policy.delay(retry: 1, retryAfter: nil, random: 0.999) < 0.25)
        #expect(policy.delay(retry: 3, retryAfter: nil, random: 0.5) == 0.5)
        #expect(policy.delay(retry: 20, retryAfter: nil, random: 0.5) == 4)
        #expect(policy.delay(retry: 1, retryAfter: "2", random: 0.5) == 2)
        #expect(policy.delay(retry: 1, retryAfter: "junk", random: 0.5) == 0.125)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(RetryPolicy.seconds(retryAfter: "Tue, 14 Nov 2023 22:13:25 GMT", now: now) == 5)
        #expect(RetryPolicy.seconds(retryAfter: "Tue, 14 Nov 2023 22:13:15 GMT", now: now) == 0)
        #expect([429, 500, 502, 503, 504].allSatisfy(RetryPolicy.isRetryable(status:)))
        #expect(![400, 401, 403, 404, 413, 501].contains(where: RetryPolicy.isRetryable(status:)))
    }

    @Test("The breaker opens after the threshold, admits one trial after the cooldown, closes on success")
    func breaker() {
        let now = Mutex<Double>(0)
        let health = DeploymentHealth(threshold: 3, cooldownSeconds: 10) { now.withLock { $0 } }
        #expect(!health.failed("a") && !health.failed("a"))
        health.succeeded("a")
        #expect(!health.failed("a") && !health.failed("a"))
        #expect(health.failed("a"), "the third consecutive failure opens it")
        _ = health.failed("b")
        let statuses = health.statuses()
        #expect(statuses.map(\.deployment) == ["a", "b"] && statuses.map(\.failures) == [3, 1])
        #expect(statuses.map(\.secondsUntilAvailable) == [10, 0])
        health.succeeded("b")
        #expect(!health.isAvailable("a") && !health.admit("a"))
        #expect(health.secondsUntilAvailable("a") == 10)
        #expect(health.isAvailable("b"), "other deployments are unaffected")
        now.withLock { $0 = 10 }
        #expect(health.isAvailable("a") && health.admit("a"), "one trial after the cooldown")
        #expect(!health.admit("a"), "only one trial at a time")
        #expect(health.failed("a"), "a failed trial opens it again at once")
        now.withLock { $0 = 15 }
        #expect(!health.isAvailable("a"))
        now.withLock { $0 = 20 }
        #expect(health.admit("a"))
        health.succeeded("a")
        #expect(health.admit("a") && health.admit("a") && health.secondsUntilAvailable("a") == 0)
    }

    static let router: ModelRouter = {
        func endpoint(_ name: String) -> ProviderEndpoint {
            ProviderEndpoint(
                id: ProviderID(rawValue: name), kind: .openai, baseURL: UpstreamBaseURL(tls: false, host: name, port: 1)
            )
        }
        let route = Route(
            patterns: [ModelPattern("m")],
            deployments: [
                Deployment(provider: "a", weight: 1), Deployment(provider: "b", model: "m-b", weight: 3),
            ],
            fallbacks: [Deployment(provider: "c", model: "m-c")], origin: .config)
        return ModelRouter(
            providers: ["a": endpoint("a"), "b": endpoint("b"), "c": endpoint("c")], routes: [route],
            defaultProvider: "a")
    }()

    static func order(_ pick: Double, available: Set<String> = ["a/m", "b/m-b", "c/m-c"]) throws -> [String] {
        try router.plan("m", pick: pick) { available.contains($0.deploymentKey) }.map(\.deploymentKey)
    }

    @Test("Plans pick a deployment by weight, then the others, then the fallbacks, skipping those cooling down")
    func plans() throws {
        #expect(try Self.order(0.1) == ["a/m", "b/m-b", "c/m-c"])
        #expect(try Self.order(0.3) == ["b/m-b", "a/m", "c/m-c"])
        #expect(try Self.order(0.99) == ["b/m-b", "a/m", "c/m-c"])
        #expect(try Self.order(0.1, available: ["a/m", "c/m-c"]) == ["a/m", "c/m-c"])
        #expect(try Self.order(0.9, available: ["b/m-b"]) == ["b/m-b"])
        #expect(try Self.order(0.5, available: []) == [])
        var shares = ["a/m": 0, "b/m-b": 0]
        for i in 0..<1000 { shares[try Self.order(Double(i) / 1000)[0], default: 0] += 1 }
        #expect(shares == ["a/m": 250, "b/m-b": 750])
        #expect(try Self.router.resolve("m").deploymentKey == "a/m")
    }

    @Test("Deployments, fallbacks, timeouts and reliability settings load from the config file and environment")
    func configuration() throws {
        let yaml = """
            providers:
              - {name: east, kind: openai, base_url: "http://e:1/v1", idle_timeout_seconds: 30, timeout_seconds: 60}
              - {name: west, kind: anthropic, base_url: "http://w:1", first_byte_timeout_seconds: 900}
            routes:
              - match: "smart"
                provider: east
                model: gpt-4o
                deployments: [{provider: west, model: claude-x, weight: 2}]
                fallbacks: [{provider: openai}]
            """
        let config = try ConfigLoader(
            environment: [
                "UPSTREAM_MAX_RETRIES": "4", "CIRCUIT_BREAKER_COOLDOWN_SECONDS": "5", "MAX_CONCURRENT_REQUESTS": "0",
                "CONNECT_TIMEOUT_SECONDS": "3", "UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS": "120",
            ], configPath: try TemporaryFile.write(yaml, suffix: ".yaml")
        ).load()
        #expect(config.reliability.maxRetries == 4 && config.reliability.breakerCooldownSeconds == 5)
        #expect(config.reliability.maxConcurrentRequests == 0 && config.reliability.breakerFailures == 5)
        let route = try #require(config.router.routes.first)
        #expect(
            route.deployments == [
                Deployment(provider: "east", model: "gpt-4o"),
                Deployment(provider: "west", model: "claude-x", weight: 2),
            ])
        #expect(route.fallbacks == [Deployment(provider: "openai")])
        let east = try #require(config.router.providers["east"]).timeouts
        #expect(east == UpstreamTimeouts(connectSeconds: 3, firstByteSeconds: 60, idleSeconds: 30, totalSeconds: 60))
        let west = try #require(config.router.providers["west"]).timeouts
        #expect(west == UpstreamTimeouts(connectSeconds: 3, firstByteSeconds: 600, idleSeconds: 600, totalSeconds: 600))
        let openai = try #require(config.router.providers["openai"]).timeouts
        #expect(openai.firstByteSeconds == 120 && openai.idleSeconds == 600)
    }

    @Test(
        "Bad reliability settings and routes are refused with the setting named",
        arguments: [
            (["UPSTREAM_MAX_RETRIES": "11"], "", "UPSTREAM_MAX_RETRIES"),
            (["CIRCUIT_BREAKER_FAILURES": "0"], "", "CIRCUIT_BREAKER_FAILURES"),
            (["UPSTREAM_IDLE_TIMEOUT_SECONDS": "-1"], "", "UPSTREAM_IDLE_TIMEOUT_SECONDS"),
            ([:], "routes: [{match: x}]", "needs a `provider` or a `deployments` list"),
            ([:], "routes: [{match: x, deployments: [{provider: nope}]}]", "deployments[0] names provider `nope`"),
            ([:], "routes: [{match: x, provider: openai, fallbacks: [{provider: openai, weight: 0}]}]", "weight"),
            (
                [:], "providers: [{name: p, kind: openai, base_url: 'http://p', idle_timeout_seconds: 0}]",
                "idle_timeout"
            ),
        ] as [([String: String], String, String)])
    func refused(environment: [String: String], yaml: String, message: String) throws {
        let path = yaml.isEmpty ? nil : try TemporaryFile.write(yaml, suffix: ".yaml")
        #expect {
            try ConfigLoader(environment: environment, configPath: path).load()
        } throws: { error in
            "\(error)".contains(message)
        }
    }
}
