import Foundation
import NIOCore
import Synchronization
import Testing

@testable import SwitchyardCore

/// A settable clock for the store.
final class TestClock: Sendable {
    let now = Mutex<Double>(1_000_000)
    func advance(_ seconds: Double) { now.withLock { $0 += seconds } }
    var read: @Sendable () -> Double { { [self] in now.withLock { $0 } } }
}

@Suite("Sliding-window token limits")
struct RateLimitTests {
    let window = SlidingWindow(windowSeconds: 600, limit: 100)  // 10-second buckets

    @Test("Tokens fit until the budget is spent; the refusal says when they will fit")
    func budget() {
        var state = SlidingWindow.State()
        let t0 = 6_000.0
        #expect(window.reserve(&state, tokens: 60, now: t0).allowed)
        let second = window.reserve(&state, tokens: 40, now: t0 + 100)
        #expect(second.allowed)
        #expect(second.remaining == 0)
        let refused = window.reserve(&state, tokens: 50, now: t0 + 200)
        #expect(!refused.allowed)
        // The first 60 tokens (bucket at t0) leave the window 600 s after their bucket began.
        #expect(refused.retryAfter == 400)
        #expect(refused.resetAfter == 500)
    }

    @Test("Window edges: spent tokens count for the whole window and are gone one bucket later")
    func edges() {
        var state = SlidingWindow.State()
        let t0 = 6_000.0
        _ = window.reserve(&state, tokens: 100, now: t0)
        #expect(!window.reserve(&state, tokens: 1, now: t0 + 599).allowed)
        #expect(window.used(state, now: t0 + 599.9) == 100)
        #expect(window.reserve(&state, tokens: 100, now: t0 + 600).allowed)
    }

    @Test("Settling charges more now, or gives back to the reserved bucket")
    func settle() {
        var state = SlidingWindow.State()
        let d = window.reserve(&state, tokens: 30, now: 6_000)
        window.settle(&state, bucket: d.bucket, reserved: 30, actual: 10, now: 6_050)
        #expect(window.used(state, now: 6_050) == 10)
        window.settle(&state, bucket: d.bucket, reserved: 10, actual: 70, now: 6_100)
        #expect(window.used(state, now: 6_100) == 70)
        window.settle(&state, bucket: d.bucket, reserved: 70, actual: 0, now: 6_100)
        #expect(window.used(state, now: 6_100) == 60)  // the later charge stays in its own bucket
    }

    @Test("Buckets read and change as a dictionary would, kept in bucket order whatever order they are set in")
    func bucketsAgreeWithADictionary() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var buckets = SlidingWindow.Buckets()
            var model: [Int64: Int] = [:]
            for _ in 0..<40 {
                let bucket = Int64.random(in: 0..<12, using: &generator)
                switch Int.random(in: 0..<4, using: &generator) {
                case 0:
                    buckets[bucket] = nil
                    model[bucket] = nil
                case 1:
                    let amount = Int.random(in: 0..<5, using: &generator)
                    buckets.keep { $0.amount != amount }
                    model = model.filter { $0.value != amount }
                default:
                    let amount = Int.random(in: -3..<50, using: &generator)
                    buckets[bucket, default: 0] += amount
                    model[bucket, default: 0] += amount
                }
                #expect(buckets.entries.map(\.bucket) == model.keys.sorted())
                #expect(buckets.entries.map(\.amount) == model.keys.sorted().map { model[$0]! })
                #expect((0..<12).allSatisfy { buckets[$0] == model[$0] })
                #expect(buckets.isEmpty == model.isEmpty)
            }
        }
    }

    @Test("200 parallel requests of one user cannot spend more than the budget")
    func concurrency() async {
        let store = InMemoryRateLimitStore()
        let window = SlidingWindow(windowSeconds: 3600, limit: 1000)
        let allowed = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<200 {
                group.addTask { store.reserve(user: "u", tokens: 7, window: window).allowed }
            }
            var count = 0
            for await ok in group where ok { count += 1 }
            return count
        }
        #expect(allowed == 1000 / 7)
    }

    @Test("State of idle users expires")
    func expiry() {
        let clock = TestClock()
        let store = InMemoryRateLimitStore(clock: clock.read)
        for i in 0..<500 { _ = store.reserve(user: "user-\(i)", tokens: 1, window: window) }
        #expect(store.trackedUsers == 500)
        clock.advance(700)
        store.sweepAll(window: window)
        #expect(store.trackedUsers == 0)
    }

    @Test("A 429 in OpenAI's shape with Retry-After and the rate-limit headers")
    func refusal() async throws {
        let limiter = RateLimiter(
            policy: RateLimitPolicy(windowSeconds: 600, perUser: BudgetLimits(tokens: 100)),
            store: InMemoryRateLimitStore(clock: TestClock().read))
        let first = try await limiter.reserve(user: "u", model: "m", provider: "openai", tokens: 90)
        #expect(
            limiter.headers(first).map { [$0.name, $0.value] } == [
                ["x-ratelimit-limit-tokens", "100"], ["x-ratelimit-remaining-tokens", "10"],
                ["x-ratelimit-reset-tokens", "10m0s"],
            ])
        await #expect {
            try await limiter.reserve(user: "u", model: "m", provider: "openai", tokens: 20)
        } throws: { error in
            guard let e = error as? GatewayError else { return false }
            return e.status == 429 && e.type == "tokens" && e.code == "rate_limit_exceeded"
                && e.headers["retry-after"] != nil && e.headers["x-ratelimit-limit-tokens"] == "100"
                && e.message.contains("Limit 100, Used 90, Requested 20")
        }
        await limiter.settle(first, actual: 0)
        let whole = try await limiter.reserve(user: "u", model: "m", provider: "openai", tokens: 100)
        #expect(whole.decisions.map(\.remaining) == [0])
    }

    @Test("The completion allowance: a stated max_tokens is reserved whole; the default is cut to fit the budget")
    func completionAllowance() async throws {
        let limiter = RateLimiter(
            policy: RateLimitPolicy(windowSeconds: 600, perUser: BudgetLimits(tokens: 100)),
            store: InMemoryRateLimitStore(clock: TestClock().read))
        let stated = try await limiter.reserve(
            user: "a", model: "m", provider: "openai", tokens: 30, completion: .stated(50))
        #expect(stated.tokens == 80)
        await #expect {
            try await limiter.reserve(user: "b", model: "m", provider: "openai", tokens: 30, completion: .stated(71))
        } throws: { error in
            (error as? GatewayError)?.message.hasPrefix(
                "Request too large: its prompt and the completion it allows come to 101 tokens") == true
        }
        let capped = try await limiter.reserve(
            user: "c", model: "m", provider: "openai", tokens: 30, completion: .byDefault(256))
        #expect(capped.tokens == 100)
        let small = try await limiter.reserve(
            user: "d", model: "m", provider: "openai", tokens: 30, completion: .byDefault(16))
        #expect(small.tokens == 46)
        // Settling gives back what was reserved and not spent.
        await limiter.settle(stated, actual: 35)
        let rest = try await limiter.reserve(user: "a", model: "m", provider: "openai", tokens: 65)
        #expect(rest.decisions.map(\.remaining) == [0])
    }

    static let key = GatewayKey(name: "team", digest: [], limits: BudgetLimits(tokens: 500, requests: 4))
    static let policy = RateLimitPolicy(
        windowSeconds: 600, perUser: BudgetLimits(tokens: 1000, requests: 3),
        budgets: [
            ModelBudget(name: "big", models: [ModelPattern("gpt-4o*")], limits: BudgetLimits(tokens: 50)),
            ModelBudget(name: "local", models: [], provider: "ollama", limits: BudgetLimits(requests: 1)),
        ])

    @Test("The policy applies the per-user budget, every matching model or route budget, and the key's own")
    func policyChecks() {
        let keys = { (model: String, provider: ProviderID, key: GatewayKey?) in
            Self.policy.checks(user: "u", key: key, model: model, provider: provider, tokens: 7).map(\.key)
        }
        #expect(keys("gpt-4o-mini", "openai", nil) == ["t:u", "r:u", "b:big:t:u"])
        #expect(keys("llama3", "ollama", nil) == ["t:u", "r:u", "b:local:r:u"])
        #expect(keys("gpt-4.1", "openai", Self.key) == ["t:u", "r:u", "k:team:t", "k:team:r"])
        let amounts = Self.policy.checks(user: "u", key: Self.key, model: "gpt-4o", provider: "openai", tokens: 7)
        #expect(amounts.map(\.amount) == [7, 1, 7, 7, 1])
        #expect(amounts.map(\.kind) == [.tokens, .requests, .tokens, .tokens, .requests])
        // Without the global switch only the configured budgets remain.
        let off = RateLimitPolicy(windowSeconds: 600, perUser: nil, budgets: Self.policy.budgets)
        #expect(off.checks(user: "u", key: nil, model: "x", provider: "openai", tokens: 1).isEmpty)
    }

    @Test("Requests per window: the fourth of three is a 429 of type requests with the -requests headers")
    func requestLimit() async throws {
        let limiter = RateLimiter(policy: Self.policy, store: InMemoryRateLimitStore(clock: TestClock().read))
        for expected in ["2", "1", "0"] {
            let r = try await limiter.reserve(user: "u", model: "m", provider: "openai", tokens: 1)
            #expect(limiter.headersByName(r)["x-ratelimit-remaining-requests"] == expected)
            #expect(limiter.headersByName(r)["x-ratelimit-limit-requests"] == "3")
            #expect(limiter.headersByName(r)["x-ratelimit-remaining-tokens"] != nil)
            let kinds = ["tokens", "requests"]
            #expect(
                limiter.headers(r).map(\.name)
                    == kinds.flatMap { kind in
                        ["limit", "remaining", "reset"].map { "x-ratelimit-\($0)-\(kind)" }
                    })
        }
        await #expect {
            try await limiter.reserve(user: "u", model: "m", provider: "openai", tokens: 1)
        } throws: { error in
            guard let e = error as? GatewayError else { return false }
            return e.status == 429 && e.type == "requests" && e.code == "rate_limit_exceeded"
                && e.headers["x-ratelimit-limit-requests"] == "3" && e.headers["retry-after"] == "600"
                && e.message.contains("requests per 10m0s: Limit 3, Used 3, Requested 1")
        }
        // Another user has their own requests.
        #expect(try await limiter.reserve(user: "v", model: "m", provider: "openai", tokens: 1).decisions.count == 2)
    }

    @Test("A request refused by one budget spends nothing in the others")
    func allOrNothing() async throws {
        let store = InMemoryRateLimitStore(clock: TestClock().read)
        let limiter = RateLimiter(policy: Self.policy, store: store)
        await #expect {
            try await limiter.reserve(user: "u", model: "gpt-4o", provider: "openai", tokens: 60)
        } throws: { error in
            let e = error as? GatewayError
            return e?.status == 429 && e?.message.contains("(budget `big`)") == true
                && e?.headers["x-ratelimit-limit-tokens"] == "50"
        }
        // The per-user tokens and requests were given back: the full budget is still there.
        let other = try await limiter.reserve(user: "u", model: "other", provider: "openai", tokens: 1000)
        #expect(other.decisions.map(\.remaining) == [0, 2])
    }

    @Test("A key's budget is shared by every user of the key; headers show the tightest budget")
    func keyBudget() async throws {
        let limiter = RateLimiter(policy: Self.policy, store: InMemoryRateLimitStore(clock: TestClock().read))
        let alice = try await limiter.reserve(
            user: "key:team/user:alice", key: Self.key, model: "m", provider: "openai", tokens: 300)
        // The key's 500, not alice's 1000.
        #expect(limiter.headersByName(alice)["x-ratelimit-remaining-tokens"] == "200")
        await #expect {
            try await limiter.reserve(
                user: "key:team/user:bob", key: Self.key, model: "m", provider: "openai", tokens: 300)
        } throws: { ($0 as? GatewayError)?.message.contains("(key `team`): Limit 500, Used 300") == true }
        await limiter.settle(alice, actual: 100)
        let bob = try await limiter.reserve(
            user: "key:team/user:bob", key: Self.key, model: "m", provider: "openai", tokens: 300)
        #expect(limiter.headersByName(bob)["x-ratelimit-remaining-tokens"] == "100")
        // Bob's own 3 against the key's 4 - 2.
        #expect(limiter.headersByName(bob)["x-ratelimit-remaining-requests"] == "2")
    }

    @Test(
        "Durations are written as OpenAI writes them",
        arguments: [(0.02, "20ms"), (1, "1s"), (59.2, "1m0s"), (360, "6m0s"), (3723, "1h2m3s")])
    func durations(seconds: Double, text: String) {
        #expect(RateLimiter.duration(seconds) == text)
    }

    @Test("The user is the key, else the header, else the token's hash, else the address")
    func identity() {
        #expect(
            RateLimiter.user(header: "alice", keyName: "team", bearerToken: "t", address: "1.2.3.4")
                == "key:team/user:alice")
        #expect(RateLimiter.user(header: "alice", keyName: nil, bearerToken: "t", address: nil) == "user:alice")
        let hashed = RateLimiter.user(header: nil, keyName: nil, bearerToken: "sk-secret", address: nil)
        #expect(hashed.hasPrefix("token:") && !hashed.contains("sk-secret"))
        #expect(RateLimiter.user(header: "", keyName: nil, bearerToken: nil, address: "1.2.3.4") == "ip:1.2.3.4")
        // The token and the address are read only when they decide the user.
        var reads = 0
        func read(_ value: String?) -> String? {
            reads += 1
            return value
        }
        _ = RateLimiter.user(header: "alice", keyName: nil, bearerToken: read("t"), address: read("1.2.3.4"))
        _ = RateLimiter.user(header: nil, keyName: "team", bearerToken: read("t"), address: read("1.2.3.4"))
        #expect(reads == 0)
        _ = RateLimiter.user(header: nil, keyName: nil, bearerToken: read("t"), address: read("1.2.3.4"))
        #expect(reads == 1)
    }

    @Test("stream_options is replaced or added at the top level; known absent, added without a search")
    func injectUsageRequest() {
        let set = { (body: String, absent: Bool) in
            var buffer = ByteBuffer(string: "  " + body)
            buffer.moveReaderIndex(forwardBy: 2)
            return TopLevelFieldRewriter.settingValue(
                "stream_options", toJSON: #"{"include_usage":true}"#, in: buffer, absent: absent
            )
            .map { String(buffer: $0) }
        }
        for absent in [false, true] {
            #expect(set(#"{"model":"m"}"#, absent) == #"{"stream_options":{"include_usage":true},"model":"m"}"#)
            #expect(set(#"{}"#, absent) == #"{"stream_options":{"include_usage":true}}"#)
            #expect(set(#" { "a" : 1 }"#, absent) == #" {"stream_options":{"include_usage":true}, "a" : 1 }"#)
            #expect(set("[]", absent) == nil)
        }
        #expect(
            set(#"{"stream_options":{"include_usage":false,"x":[1]},"a":1}"#, false)
                == #"{"stream_options":{"include_usage":true},"a":1}"#)
    }

    @Test("A stream's request asks for usage once, whether the client sent stream_options or not")
    func askingForUsage() throws {
        let endpoint = ProviderEndpoint(
            id: "openai", kind: .openai, baseURL: UpstreamBaseURL(tls: false, host: "h", port: 1, pathPrefix: "/v1"))
        let target = ModelRouter.Target(endpoint: endpoint, requestedModel: "gpt-4o", upstreamModel: "gpt-4o")
        for body in [
            #"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
            #"{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":false},"messages":[{"role":"user","content":"hi"}]}"#,
        ] {
            let buffer = ByteBuffer(string: body)
            let chat = try ChatRequestEnvelope.parse(buffer.readableBytesView)
            let request = try OpenAIAdapter().chatRequest(
                chat, body: buffer, target: target, client: ClientContext(authorization: nil, requestID: "r1"))
            let sentBody = try #require(request.body)
            let sent = try #require(try JSONParser.parse(sentBody.readableBytesView).objectValue)
            #expect(sent["stream_options"]?["include_usage"] == .bool(true), "\(body)")
            #expect(String(buffer: sentBody).components(separatedBy: "stream_options").count == 2, "\(body)")
        }
    }

    static let stream =
        #"data: {"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}],"usage":null}"# + "\n\n"
        + #"data: {"id":"c","choices":[{"index":0,"delta":{"content":"lo"}}],"usage":null}"# + "\r\n\r\n"
        + #"data: {"id":"c","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"# + "\n\n"
        + "data: [DONE]\n\n"

    /// A relay fed `parts` in turn and finished: the relay, what it passed on, and whether it said
    /// `[DONE]` was passed on before it was finished.
    static func relayed(
        _ parts: [ArraySlice<UInt8>], hide: Bool = true
    ) throws -> (relay: UsageTrackingSSETranscoder, out: String, delivered: Bool) {
        var relay = UsageTrackingSSETranscoder(hideUsageChunk: hide)
        var out = ""
        for part in parts {
            if let o = try relay.transcode(ByteBuffer(bytes: part)) { out += String(buffer: o) }
        }
        let delivered = relay.delivered
        if let o = try relay.finish() { out += String(buffer: o) }
        return (relay, out, delivered)
    }

    @Test("The usage-tracking relay reads usage and hides the chunk from a client that did not ask, at every split")
    func usageTracking() throws {
        let bytes = Array(Self.stream.utf8)
        for hide in [true, false] {
            for split in 1..<bytes.count {
                let (t, out, _) = try Self.relayed([bytes[..<split], bytes[split...]], hide: hide)
                #expect(t.usage == TokenUsage(promptTokens: 9, completionTokens: 2))
                #expect(t.streamedText == "Hello")
                #expect(out.contains(#""choices":[],"usage""#) == !hide)
                #expect(out.hasSuffix("data: [DONE]\n\n"))
                if t.usage == nil { break }
            }
        }
    }

    @Test("[DONE] is seen after an event ended by \\r\\n\\r\\n, whichever byte the stream is split at")
    func doneAfterCRLF() throws {
        let stream = #"data: {"choices":[{"delta":{"content":"Hi"}}]}"# + "\r\n\r\n" + "data: [DONE]\r\n\r\n"
        let bytes = Array(stream.utf8)
        for split in 1..<bytes.count {
            let (t, out, delivered) = try Self.relayed([bytes[..<split], bytes[split...]])
            #expect(delivered, "split at \(split)")
            #expect(out == stream && t.streamedText == "Hi", "split at \(split)")
        }
    }

    @Test("`data:` without its space: text, usage and [DONE] are read as with it, at every split")
    func dataWithoutSpace() throws {
        let text = #"data:{"choices":[{"delta":{"content":"a\"b"}}]}"# + "\n\n"
        let usage = #"data:{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"# + "\n\n"
        let (kept, bytes) = (text + "data:[DONE]\n\n", Array((text + usage + "data:[DONE]\n\n").utf8))
        for split in 1..<bytes.count {
            let (t, out, delivered) = try Self.relayed([bytes[..<split], bytes[split...]])
            #expect(delivered && out == kept, "split at \(split)")
            #expect(t.streamedText == "a\"b" && t.usage == TokenUsage(promptTokens: 3, completionTokens: 2))
            if out != kept { return }
        }
    }

    @Test("Events end at a blank line whatever mix of \\n, \\r\\n and \\r ends their lines, split anywhere in three")
    func eventEnds() throws {
        let endings = ["\n", "\r\n", "\r"]
        var stream = ""
        var text = ""
        // Every pair but a `\r` line before a `\n` blank line, which together are one `\r\n`.
        for index in 0..<9 where !(index % 3 == 2 && index / 3 == 0) {
            let (line, blank) = (endings[index % 3], endings[index / 3])
            let comment = index == 4 ? ": keep-alive" + line : ""
            stream += comment + #"data: {"choices":[{"delta":{"content":"t\#(index) "}}],"usage":null}"# + line + blank
            text += "t\(index) "
        }
        stream += "data: [DONE]\r\n\r\n"
        let bytes = Array(stream.utf8)
        for first in stride(from: 1, to: bytes.count, by: 7) {
            for second in stride(from: first, to: bytes.count, by: 11) {
                let (t, out, _) = try Self.relayed([bytes[..<first], bytes[first..<second], bytes[second...]])
                #expect(out == stream && t.streamedText == text && t.delivered, "split at \(first), \(second)")
                if out != stream { return }
            }
        }
    }

    @Test("The relay finds usage objects and delta text by scanning, escapes and all")
    func usageScan() {
        #expect(
            UsageTrackingSSETranscoder.carriesUsage(ByteBuffer(string: #"{"choices":[],"usage":{"prompt_tokens":1}}"#)))
        #expect(UsageTrackingSSETranscoder.carriesUsage(ByteBuffer(string: #"{"usage" : {"prompt_tokens":1}}"#)))
        #expect(
            !UsageTrackingSSETranscoder.carriesUsage(
                ByteBuffer(string: #"{"choices":[{"delta":{"content":"\"usage\":{"}}],"usage":null}"#))
        )
        #expect(
            Self.deltaContent(ByteBuffer(string: #"{"choices":[{"delta":{"content":"Hel"}}]}"#))
                == "Hel")
        #expect(
            Self.deltaContent(
                ByteBuffer(string: #"{"choices":[{"delta":{"content":"a\"b\\c\n\u00e9"}}]}"#))
                == "a\"b\\c\né")
        #expect(
            Self.deltaContent(ByteBuffer(string: #"{"choices":[{"delta":{"content":null}}]}"#))
                == nil)
        #expect(
            Self.deltaContent(ByteBuffer(string: #"{"choices":[{"delta":{"content":"cut\"#))
                == nil)
        #expect(
            Self.deltaContent(
                ByteBuffer(string: #"{"choices": [{"delta": {"role": "assistant", "content" : "one "}}]}"#)) == "one ")
        #expect(
            Self.deltaContent(
                ByteBuffer(string: #"{"content": null, "choices":[{"delta":{"content":"x"}}]}"#)) == "x")
        let toolCall = #"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"{\"content\":\"x\"}"}}]}}]}"#
        #expect(Self.deltaContent(ByteBuffer(string: toolCall)) == nil)
    }

    @Test("Events that share a head, or change it, give the text and usage they hold, split anywhere")
    func sharedHeads() throws {
        let heads = [
            #"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"#,
            #"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"#,
            #"{"id":"c2","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content" : "#,
            #"{"id":"c1","x":{"usage":null},"choices":[{"index":0,"delta":{"content":"#,
        ]
        // Each content as the event writes it, and as the text it adds.
        let contents: [(json: String, text: String)] = [
            (#""Hel""#, "Hel"), (#""lo ""#, "lo "), (#""a\"b""#, "a\"b"), (#""usage""#, "usage"),
            (#""\"usage\":{""#, "\"usage\":{"), (#""""#, ""), (#""\u00e9""#, "é"), ("null", ""),
        ]
        let usage = #""usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}"#
        let tails = ["}", #","usage":null}"#, "," + usage + "}", #","usage" :null}"#]
        var generator = SplitMix64(seed: 19)
        for _ in 0..<300 {
            var (stream, kept, text, used) = ("", "", "", false)
            for _ in 0..<Int.random(in: 1...10, using: &generator) {
                let event: String
                // The head's bytes are not searched for the event's end: its end may be any.
                let ending = ["\n\n", "\r\n\r\n", "\r\r"].randomElement(using: &generator)!
                if Int.random(in: 0..<12, using: &generator) == 0 {
                    event = #"data: {"id":"c1","choices":[],"# + usage + "}" + ending
                    used = true
                } else {
                    let content = contents.randomElement(using: &generator)!
                    let tail = tails.randomElement(using: &generator)!
                    event =
                        "data: " + heads.randomElement(using: &generator)! + content.json
                        + #"},"finish_reason":null}]"# + tail + ending
                    (kept, text, used) = (kept + event, text + content.text, used || tail.contains("{\"prompt"))
                }
                stream += event
            }
            stream += "data: [DONE]\n\n"
            kept += "data: [DONE]\n\n"
            let bytes = Array(stream.utf8)
            let first = Int.random(in: 1..<bytes.count, using: &generator)
            let second = Int.random(in: first..<bytes.count, using: &generator)
            let (relay, out, _) = try Self.relayed([bytes[..<first], bytes[first..<second], bytes[second...]])
            #expect(out == kept && relay.streamedText == text, "\(stream) split at \(first), \(second)")
            #expect(relay.usage == (used ? TokenUsage(promptTokens: 3, completionTokens: 2) : nil), "\(stream)")
            if out != kept || relay.streamedText != text { return }
        }
    }

    @Test("Events with one shared head pass whole and give their text, a byte a read and split at every point")
    func sharedHeadsInEveryPiece() throws {
        let head = #"data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"#
        let tail = #"},"finish_reason":null}]}"#
        // The last event's end comes alone, without its blank line, at the end of the body.
        let stream =
            head + #""Hel""# + tail + "\r\n\r\n" + head + #""lo""# + tail + "\r\r" + head + #"" w\"o""# + tail + "\n\n"
            + "data: [DONE]"
        let bytes = Array(stream.utf8)
        var splits = (1..<bytes.count).map { [bytes[..<$0], bytes[$0...]] }
        splits.append(bytes.indices.map { bytes[$0...$0] })
        for parts in splits {
            let (relay, out, _) = try Self.relayed(parts)
            #expect(out == stream && relay.streamedText == "Hello w\"o" && relay.delivered, "\(parts.count) parts")
            if out != stream { return }
        }
    }

    @Test(
        "Events read by their shared head and tail give what a scan of every byte gives, whatever their text and ends")
    func sharedTails() throws {
        let head = #"data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"#
        let usage = #""usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}"#
        let tails = [
            #"},"finish_reason":null}]}"#, #"},"finish_reason":null}],"usage":null}"#,
            #"},"finish_reason":"stop"}],"# + usage + "}", #"}}],"obfuscation":"Ab3"}"#,
        ]
        // Texts with escapes and with line ends no JSON string holds raw, which end an event early.
        let contents = [
            #""Hel""#, #""lo ""#, #""a\"b""#, "\"a\nb\"", "\"a\r\n\r\nb\"", "\"a\n\n\"", #""""#, #""\u00e9""#,
        ]
        let endings = ["\n\n", "\r\n\r\n", "\r\r", "\n\r\n", "\r\r\n", "\r\n\n"]
        var generator = SplitMix64(seed: 29)
        for _ in 0..<400 {
            var stream = ""
            // Mostly one tail and one ending, as a stream has, now and then another.
            let (usualTail, usualEnding) = (
                tails.randomElement(using: &generator)!, endings.randomElement(using: &generator)!
            )
            for _ in 0..<Int.random(in: 1...12, using: &generator) {
                let tail =
                    Int.random(in: 0..<4, using: &generator) == 0 ? tails.randomElement(using: &generator)! : usualTail
                let ending =
                    Int.random(in: 0..<4, using: &generator) == 0
                    ? endings.randomElement(using: &generator)! : usualEnding
                stream += head + contents.randomElement(using: &generator)! + tail + ending
            }
            stream += "data: [DONE]\n\n"
            let bytes = Array(stream.utf8)
            // Read whole, the events are found by their head and tail; a byte a read, by their bytes.
            let whole = try Self.relayed([bytes[...]])
            let split = Int.random(in: 1..<bytes.count, using: &generator)
            for other in try [
                Self.relayed(bytes.indices.map { bytes[$0...$0] }), Self.relayed([bytes[..<split], bytes[split...]]),
            ] {
                #expect(
                    other.out == whole.out && other.relay.streamedText == whole.relay.streamedText
                        && other.relay.usage == whole.relay.usage && other.delivered == whole.delivered,
                    "\(stream.debugDescription)")
                if other.out != whole.out || other.relay.streamedText != whole.relay.streamedText { return }
            }
        }
    }

    @Test("Bytes known to hold no line end are skipped, and the line they start goes on after them")
    func lineFreeBytes() {
        for (text, lineFree) in [("data: x\n\n", 7), ("data: x\r\n\r\n", 7), ("data: x\r\r", 6)] {
            var boundary = EventBoundary()
            let end = Array(text.utf8).withUnsafeBytes { boundary.nextEnd(in: $0, lineFree: lineFree) }
            #expect(end?.length == text.utf8.count && end?.lines == 1, "\(text.debugDescription)")
        }
    }

    @Test("The search for a string's quote or backslash, eight bytes at a time, finds the first")
    func quoteOrBackslash() {
        let alphabet: [UInt8] = [0x22, 0x5C, 0x61, 0x20, 0x00, 0x01, 0x21, 0x23, 0x5B, 0x5D, 0x80, 0xA2, 0xDC, 0xFF]
        var generator = SplitMix64(seed: 23)
        for _ in 0..<3_000 {
            let bytes = (0..<Int.random(in: 0...40, using: &generator)).map { _ in
                // Mostly other bytes, so the first match falls anywhere in a word.
                Int.random(in: 0..<4, using: &generator) == 0
                    ? alphabet.randomElement(using: &generator)! : UInt8.random(in: 0x23...0x5B, using: &generator)
            }
            let from = Int.random(in: 0...(bytes.count + 2), using: &generator)
            let expected = bytes.indices.first { $0 >= from && (bytes[$0] == 0x22 || bytes[$0] == 0x5C) } ?? bytes.count
            let found = bytes.withUnsafeBufferPointer {
                UsageTrackingSSETranscoder.quoteOrBackslash(in: $0, from: from)
            }
            #expect(found == expected, "\(bytes) from \(from)")
            if found != expected { return }
        }
    }

    /// The delta text the relay's scan appends for `event`, nil when it finds none.
    static func deltaContent(_ event: ByteBuffer) -> String? {
        var text: [UInt8] = []
        guard UsageTrackingSSETranscoder.appendDeltaContent(of: event, to: &text) else { return nil }
        return String(decoding: text, as: UTF8.self)
    }

    @Test("The relay passes events byte for byte, any line endings, comments and multi-line data, at every split")
    func verbatimRelay() throws {
        let usage = #"data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"# + "\n\n"
        let kept =
            "\n: keep-alive\r\r" + #"data: {"choices":[{"delta":{"content":"a"}}],"usage":null}"# + "\r\r"
            + #"data: {"choices":[{"delta":"# + "\r\n" + #"data: {"content":"b\u00e9"}}]}"# + "\r\n\r\n"
        let stream = kept + usage + "data: [DONE]\r\n\r\n"
        let bytes = Array(stream.utf8)
        for split in 1..<bytes.count {
            let (relay, out, _) = try Self.relayed([bytes[..<split], bytes[split...]])
            #expect(out == kept + "data: [DONE]\r\n\r\n", "split at \(split)")
            #expect(relay.streamedText == "abé")
            #expect(relay.usage == TokenUsage(promptTokens: 3, completionTokens: 2))
            if out != kept + "data: [DONE]\r\n\r\n" { break }
        }
    }
}

extension RateLimiter {
    /// A reservation's rate-limit headers by name.
    func headersByName(_ reservation: Reservation) -> [String: String] {
        Dictionary(uniqueKeysWithValues: headers(reservation).map { ($0.name, $0.value) })
    }
}
