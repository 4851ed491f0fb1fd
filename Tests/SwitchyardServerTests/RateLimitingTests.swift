import AsyncHTTPClient
import Foundation
import NIOCore
import SwitchyardCore
import Testing

/// The token budget enforced by the in-process gateway (in-memory store).
@Suite("Token rate limiting", .timeLimit(.minutes(1)))
struct RateLimitingTests {
    static let environment = ["ENABLE_RATE_LIMITING": "true", "MAX_TOKENS": "40", "RATE_LIMIT_WINDOW_MIN": "60"]

    @Test("Answers carry the headers; usage is settled from the provider; the budget ends in a 429")
    func budget() async throws {
        try await TestGateway.with(environment: Self.environment) { gw in
            let headers = [("user", "alice")]
            // Each non-streamed answer reports 7 + 3 = 10 tokens.
            var remaining: [String] = []
            for _ in 0..<4 {
                let r = try await gw.send(
                    "/v1/chat/completions", body: TestGateway.chatBody(model: "gpt-4o"), headers: headers)
                #expect(r.status == 200)
                #expect(r.headers["x-ratelimit-limit-tokens"] == ["40"])
                remaining += r.headers["x-ratelimit-remaining-tokens"]
            }
            // Remaining is after reserving the counted prompt: 3 + 3 + "user" (1) + "hello" (1) = 8.
            #expect(remaining == ["32", "22", "12", "2"])
            let refused = try await gw.send(
                "/v1/chat/completions", body: TestGateway.chatBody(model: "gpt-4o"), headers: headers)
            #expect(refused.status == 429)
            #expect(Int(refused.headers["retry-after"].first ?? "") ?? 0 > 0)
            #expect(refused.headers["x-ratelimit-reset-tokens"].first?.hasSuffix("s") == true)
            let error = try TestGateway.error(in: refused.body)
            #expect(error["type"] as? String == "tokens")
            #expect(error["code"] as? String == "rate_limit_exceeded")
            // Another user has a budget of their own.
            let bob = try await gw.send(
                "/v1/chat/completions", body: TestGateway.chatBody(model: "gpt-4o"), headers: [("user", "bob")])
            #expect(bob.status == 200)
        }
    }

    @Test(
        "A body that repeats a member name is a 400 naming it, before counting or sending",
        arguments: ["gpt-4o", "gemini-2.0-flash", "claude-3-5-haiku-latest", "llama3.2"])
    func repeatedMember(model: String) async throws {
        let prompt = String(repeating: "many words of a long prompt ", count: 100)
        let body =
            #"{"model":"\#(model)","messages":[{"role":"user","content":"\#(prompt)"}],"#
            + #""messages":[{"role":"user","content":"hi"}]}"#
        try await TestGateway.with(environment: ["ENABLE_RATE_LIMITING": "true", "MAX_TOKENS": "200"]) { gw in
            let refused = try await gw.send("/v1/chat/completions", body: body)
            #expect(refused.status == 400)
            let error = try TestGateway.error(in: refused.body)
            #expect(error["type"] as? String == "invalid_request_error")
            #expect(error["param"] as? String == "messages")
            let nested = try await gw.send(
                "/v1/embeddings", body: #"{"model":"text-embedding-3-small","input":"a","input":"b"}"#)
            #expect(nested.status == 400)
            #expect(try TestGateway.error(in: nested.body)["param"] as? String == "input")
            #expect(await gw.mock.log.requests.isEmpty)
        }
    }

    @Test(
        "200 concurrent streams with max_tokens 5: admission reserves prompt and completion, so the budget holds",
        arguments: [false, true])
    func concurrentReservations(throughRedis: Bool) async throws {
        var environment = [
            "ENABLE_RATE_LIMITING": "true", "MAX_TOKENS": "1000", "MAX_CONNECTIONS_PER_ADDRESS": "0",
            "MAX_CONCURRENT_REQUESTS": "0",
        ]
        guard throughRedis else {
            try await TestGateway.with(environment: environment) { gw in try await Self.reserveConcurrently(on: [gw]) }
            return
        }
        // Two instances sharing one Redis, the requests spread over both.
        let redis = try await RedisServer()
        defer { redis.stop() }
        environment["REDIS_URL"] = redis.url
        try await TestGateway.with(environment: environment) { first in
            try await TestGateway.with(environment: environment) { second in
                try await Self.reserveConcurrently(on: [first, second])
            }
        }
    }

    /// Sends 200 streams of one user at once, spread over `gateways`, and checks that no more were
    /// admitted than fit and that each was settled at what it spent.
    static func reserveConcurrently(on gateways: [TestGateway]) async throws {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        // Each stream holds its reservation until every answer's head is in (the mock's gate), so
        // all 200 overlap however slowly they arrive.
        // Counted prompt 8, max_tokens 5: 13 reserved; the mock reports 7 + 5 = 12 spent.
        let body =
            #"{"model":"gpt-gated-stream","stream":true,"max_tokens":5,"#
            + #""messages":[{"role":"user","content":"hello"}]}"#
        let heads = await withTaskGroup(of: HTTPClientResponse?.self) { group in
            for index in 0..<200 {
                group.addTask {
                    var request = HTTPClientRequest(url: gateways[index % gateways.count].base + "/v1/chat/completions")
                    request.method = .POST
                    request.headers.add(name: "user", value: "alice")
                    request.body = .bytes(ByteBuffer(string: body))
                    return try? await client.execute(request, timeout: .seconds(20))
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        for gateway in gateways { await gateway.mock.log.openGate() }
        var statuses: [Int] = []
        for head in heads {
            guard let head, (try? await head.body.collect(upTo: 1 << 20)) != nil else {
                statuses.append(0)
                continue
            }
            statuses.append(Int(head.status.code))
        }
        try await client.shutdown()
        let admitted = statuses.filter { $0 == 200 }.count
        #expect(Set(statuses).isSubset(of: [200, 429]), "\(Set(statuses))")
        #expect(admitted <= 1000 / 13, "\(admitted) admitted")
        #expect(admitted >= 60, "\(admitted) admitted")
        // Settled at what was spent: the next request sees 1000 - 12 per admitted stream, less its own 8.
        let next = try await gateways[0].send(
            "/v1/chat/completions",
            body: TestGateway.chatBody(model: "gpt-4o").replacing("{", with: #"{"max_tokens":0,"#, maxReplacements: 1),
            headers: [("user", "alice")])
        #expect(next.headers["x-ratelimit-remaining-tokens"] == [String(1000 - 12 * admitted - 8)])
    }

    @Test("Embeddings are admitted and settled like chat: token and request limits, headers, the provider's count")
    func embeddings() async throws {
        let environment = ["ENABLE_RATE_LIMITING": "true", "MAX_TOKENS": "100", "MAX_REQUESTS": "3"]
        try await TestGateway.with(environment: environment) { gw in
            let body = #"{"model":"text-embedding-3-small","input":["hello","world"]}"#
            var remaining: [String] = []
            for _ in 0..<3 {
                let answer = try await gw.send("/v1/embeddings", body: body, headers: [("user", "erin")])
                #expect(answer.status == 200)
                remaining += answer.headers["x-ratelimit-remaining-tokens"]
            }
            // Two input tokens reserved each time, settled at the provider's 2.
            #expect(remaining == ["98", "96", "94"])
            let refused = try await gw.send("/v1/embeddings", body: body, headers: [("user", "erin")])
            #expect(refused.status == 429)
            #expect(try TestGateway.error(in: refused.body)["type"] as? String == "requests")
            let large = #"{"model":"text-embedding-3-small","input":"\#(String(repeating: "many words ", count: 80))"}"#
            let tooLarge = try await gw.send("/v1/embeddings", body: large, headers: [("user", "frank")])
            #expect(tooLarge.status == 429)
            #expect(try TestGateway.error(in: tooLarge.body)["type"] as? String == "tokens")
        }
    }

    @Test("Request limits and model budgets from the config file: -requests headers, then 429s of type requests")
    func configuredBudgets() async throws {
        let yaml = """
            enable_rate_limiting: true
            max_requests: 2
            rate_limits:
              - name: mini-only
                match: gpt-4o-mini
                max_requests: 1
            """
        try await TestGateway.with(yaml: yaml) { gw in
            let send = { (model: String) in
                try await gw.send(
                    "/v1/chat/completions", body: TestGateway.chatBody(model: model), headers: [("user", "erin")])
            }
            let mini = try await send("gpt-4o-mini")
            #expect(mini.status == 200)
            // The tightest request budget is the model's: 1 per window, none left.
            #expect(mini.headers["x-ratelimit-limit-requests"] == ["1"])
            #expect(mini.headers["x-ratelimit-remaining-requests"] == ["0"])
            #expect(mini.headers["x-ratelimit-limit-tokens"] == ["1000"])
            let refused = try await send("gpt-4o-mini")
            #expect(refused.status == 429)
            let error = try TestGateway.error(in: refused.body)
            #expect(error["type"] as? String == "requests")
            #expect((error["message"] as? String)?.contains("budget `mini-only`") == true)
            // The refused request was not counted against the per-user limit of 2.
            let other = try await send("gpt-4o")
            #expect(other.status == 200)
            #expect(other.headers["x-ratelimit-limit-requests"] == ["2"])
            #expect(other.headers["x-ratelimit-remaining-requests"] == ["0"])
            let third = try await send("gpt-4o")
            #expect(third.status == 429)
            #expect(third.headers["x-ratelimit-limit-requests"] == ["2"])
            #expect(try TestGateway.error(in: third.body)["type"] as? String == "requests")
        }
    }

    @Test("A gateway key's token budget is shared by the users within it")
    func keyBudget() async throws {
        let yaml = """
            gateway_keys:
              - name: team
                sha256: \(Hashing.sha256Hex("sk-gw-team"))
                max_tokens: 25
            """
        try await TestGateway.with(yaml: yaml, environment: ["OPENAI_API_KEY": "sk-provider"]) { gw in
            var statuses: [Int] = []
            for user in ["alice", "bob", "carol"] {
                let r = try await gw.send(
                    "/v1/chat/completions", body: TestGateway.chatBody(model: "gpt-4o"),
                    headers: [("authorization", "Bearer sk-gw-team"), ("user", user)])
                statuses.append(r.status)
                if r.status == 429 {
                    #expect((try TestGateway.error(in: r.body)["message"] as? String)?.contains("key `team`") == true)
                }
            }
            // 10 tokens per answer: alice and bob spend 20 of the key's 25; carol's 8-token prompt does not fit.
            #expect(statuses == [200, 200, 429])
        }
    }

    @Test("A failed upstream request is refunded")
    func refund() async throws {
        // Without retries or the circuit breaker, each request is exactly one failed exchange.
        let environment = Self.environment.merging(["UPSTREAM_MAX_RETRIES": "0", "CIRCUIT_BREAKER_FAILURES": "100"]) {
            $1
        }
        try await TestGateway.with(environment: environment) { gw in
            for _ in 0..<6 {
                let r = try await gw.send(
                    "/v1/chat/completions", body: TestGateway.chatBody(model: "gpt-fail-500"),
                    headers: [("user", "carol")])
                #expect(r.status == 500)
                #expect(r.headers["x-ratelimit-limit-tokens"] == ["40"])
            }
            let ok = try await gw.send(
                "/v1/chat/completions", body: TestGateway.chatBody(model: "gpt-4o"), headers: [("user", "carol")])
            #expect(ok.headers["x-ratelimit-remaining-tokens"] == ["32"])
        }
    }

    @Test("Streams are settled from the usage the gateway asked for, which a client that did not ask never sees")
    func streamUsage() async throws {
        try await TestGateway.with(environment: Self.environment) { gw in
            let headers = [("user", "dave")]
            let r = try await gw.send(
                "/v1/chat/completions", body: TestGateway.chatBody(model: "gpt-4o", stream: true), headers: headers)
            #expect(r.status == 200)
            #expect(!r.body.contains(#""usage":{"#))
            #expect(r.body.hasSuffix("data: [DONE]\n\n"))
            let seen = try #require(await gw.mock.log.requests.last)
            #expect(seen.body.contains(#""stream_options":{"include_usage":true}"#))
            // Settled at 12 (the usage chunk), so 40 - 12 - 8 (next prompt) = 20.
            let next = try await gw.send(
                "/v1/chat/completions", body: TestGateway.chatBody(model: "gpt-4o"), headers: headers)
            #expect(next.headers["x-ratelimit-remaining-tokens"] == ["20"])
            // A client that asked for usage still gets it.
            let asked =
                #"{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hello"}]}"#
            let withUsage = try await gw.send("/v1/chat/completions", body: asked, headers: [("user", "erin")])
            #expect(withUsage.body.contains(#""usage":{"prompt_tokens":7"#))
        }
    }
}
