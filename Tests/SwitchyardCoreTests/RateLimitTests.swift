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
        let limiter = TokenRateLimiter(window: window, store: InMemoryRateLimitStore(clock: TestClock().read))
        let first = try await limiter.reserve(user: "u", tokens: 90)
        #expect(limiter.headers(first.decision)["x-ratelimit-remaining-tokens"] == "10")
        await #expect {
            try await limiter.reserve(user: "u", tokens: 20)
        } throws: { error in
            guard let e = error as? GatewayError else { return false }
            return e.status == 429 && e.type == "tokens" && e.code == "rate_limit_exceeded"
                && e.headers["retry-after"] != nil && e.headers["x-ratelimit-limit-tokens"] == "100"
                && e.message.contains("Limit 100, Used 90, Requested 20")
        }
        await limiter.settle(first, actual: 0)
        #expect(try await limiter.reserve(user: "u", tokens: 100).decision.allowed)
    }

    @Test(
        "Durations are written as OpenAI writes them",
        arguments: [(0.02, "20ms"), (1, "1s"), (59.2, "1m0s"), (360, "6m0s"), (3723, "1h2m3s")])
    func durations(seconds: Double, text: String) {
        #expect(TokenRateLimiter.duration(seconds) == text)
    }

    @Test("The user is the key, else the header, else the token's hash, else the address")
    func identity() {
        #expect(
            TokenRateLimiter.user(header: "alice", keyName: "team", bearerToken: "t", address: "1.2.3.4")
                == "key:team/user:alice")
        #expect(TokenRateLimiter.user(header: "alice", keyName: nil, bearerToken: "t", address: nil) == "user:alice")
        let hashed = TokenRateLimiter.user(header: nil, keyName: nil, bearerToken: "sk-secret", address: nil)
        #expect(hashed.hasPrefix("token:") && !hashed.contains("sk-secret"))
        #expect(TokenRateLimiter.user(header: "", keyName: nil, bearerToken: nil, address: "1.2.3.4") == "ip:1.2.3.4")
    }

    @Test("stream_options is replaced or added at the top level")
    func injectUsageRequest() {
        let set = { (body: String) in
            TopLevelFieldRewriter.settingValue(
                "stream_options", toJSON: #"{"include_usage":true}"#, in: Array(body.utf8)
            )
            .map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(set(#"{"model":"m"}"#) == #"{"stream_options":{"include_usage":true},"model":"m"}"#)
        #expect(set(#"{}"#) == #"{"stream_options":{"include_usage":true}}"#)
        #expect(
            set(#"{"stream_options":{"include_usage":false,"x":[1]},"a":1}"#)
                == #"{"stream_options":{"include_usage":true},"a":1}"#)
        #expect(set("[]") == nil)
    }

    static let stream =
        #"data: {"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}],"usage":null}"# + "\n\n"
        + #"data: {"id":"c","choices":[{"index":0,"delta":{"content":"lo"}}],"usage":null}"# + "\r\n\r\n"
        + #"data: {"id":"c","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"# + "\n\n"
        + "data: [DONE]\n\n"

    @Test("The usage-tracking relay reads usage and hides the chunk from a client that did not ask, at every split")
    func usageTracking() throws {
        let bytes = Array(Self.stream.utf8)
        for hide in [true, false] {
            for split in 1..<bytes.count {
                var t = UsageTrackingSSETranscoder(hideUsageChunk: hide)
                var out = ""
                for part in [bytes[..<split], bytes[split...]] {
                    if let o = try t.transcode(ByteBuffer(bytes: part)) { out += String(buffer: o) }
                }
                if let o = try t.finish() { out += String(buffer: o) }
                #expect(t.usage == TokenUsage(promptTokens: 9, completionTokens: 2))
                #expect(t.streamedText == "Hello")
                #expect(out.contains(#""choices":[],"usage""#) == !hide)
                #expect(out.hasSuffix("data: [DONE]\n\n"))
                if t.usage == nil { break }
            }
        }
    }
}
