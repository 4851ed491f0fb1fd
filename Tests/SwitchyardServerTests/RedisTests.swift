import Foundation
import NIOCore
import SwitchyardCore
import Testing

@testable import SwitchyardServer

@Suite("Redis client and store against a real redis-server", .serialized, .timeLimit(.minutes(1)))
struct RedisTests {
    @Test("RESP replies parse the same at every split")
    func parser() throws {
        let reply = "*4\r\n+OK\r\n:-42\r\n$4\r\nhé!\r\n*2\r\n$-1\r\n-ERR nope\r\n"
        let bytes = Array(reply.utf8)
        let expected: RESPValue = .array([
            .simpleString("OK"), .integer(-42), .bulkString("hé!"), .array([.bulkString(nil), .error("ERR nope")]),
        ])
        for split in 0..<bytes.count {
            var buffer = ByteBuffer(bytes: bytes[..<split])
            #expect(try RESPParser.parse(&buffer) == nil)
            buffer.writeBytes(bytes[split...])
            #expect(try RESPParser.parse(&buffer) == expected)
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test("Commands, pipelining, error replies, AUTH and SELECT from the URL")
    func client() async throws {
        let server = try await RedisServer(password: "s3cret")
        defer { server.stop() }
        let client = RedisClient(endpoint: try .init(url: "redis://:s3cret@127.0.0.1:\(server.port)/2"), poolSize: 2)
        #expect(try await client.send(["PING"]) == .simpleString("PONG"))
        #expect(try await client.send(["SET", "k", "v"]) == .simpleString("OK"))
        #expect(try await client.send(["GET", "k"]) == .bulkString("v"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 { group.addTask { _ = try await client.send(["INCR", "n"]) } }
            try await group.waitForAll()
        }
        #expect(try await client.send(["GET", "n"]).int == 200)
        await #expect(throws: RedisError.self) { try await client.send(["NOSUCHCOMMAND"]) }
        // Database 0 does not see database 2's keys.
        let zero = RedisClient(endpoint: try .init(url: "redis://:s3cret@127.0.0.1:\(server.port)"), poolSize: 1)
        #expect(try await zero.send(["GET", "k"]) == .bulkString(nil))
        // A wrong password is refused at connection time.
        let wrong = RedisClient(endpoint: try .init(url: "redis://:nope@127.0.0.1:\(server.port)"), poolSize: 1)
        await #expect(throws: RedisError.self) { try await wrong.send(["PING"]) }
        await client.close()
        await zero.close()
    }

    @Test("The Redis store spends and refuses like the in-memory one, and settles")
    func store() async throws {
        let server = try await RedisServer()
        defer { server.stop() }
        let store = RedisRateLimitStore(client: RedisClient(endpoint: try .init(url: server.url)))
        let window = SlidingWindow(windowSeconds: 600, limit: 100)
        let tokens = { (amount: Int) in [RateLimitCheck(key: "u", kind: .tokens, window: window, amount: amount)] }
        let first = try await store.reserve(tokens(60))[0]
        #expect(first.allowed && first.remaining == 40)
        let refused = try await store.reserve(tokens(50))[0]
        #expect(!refused.allowed && refused.remaining == 40 && refused.retryAfter > 0)
        try await store.settle(key: "u", bucket: first.bucket, reserved: 60, actual: 20, window: window)
        #expect(try await store.reserve(tokens(50))[0].remaining == 30)
    }

    @Test("In Redis, a request refused by one budget spends nothing in the others")
    func allOrNothing() async throws {
        let server = try await RedisServer()
        defer { server.stop() }
        let store = RedisRateLimitStore(client: RedisClient(endpoint: try .init(url: server.url)))
        let checks = [
            RateLimitCheck(
                key: "t:u", kind: .tokens, window: SlidingWindow(windowSeconds: 600, limit: 100), amount: 40),
            RateLimitCheck(key: "r:u", kind: .requests, window: SlidingWindow(windowSeconds: 600, limit: 2), amount: 1),
            RateLimitCheck(key: "k:t", kind: .tokens, window: SlidingWindow(windowSeconds: 600, limit: 70), amount: 40),
        ]
        #expect(try await store.reserve(checks).map(\.remaining) == [60, 1, 30])
        let refused = try await store.reserve(checks)
        #expect(refused.map(\.allowed) == [true, true, false] && refused[2].remaining == 30)
        // Nothing of the refused request was kept: one request and 40 tokens remain spent.
        let probe = try await store.reserve([checks[1]])
        #expect(probe.map(\.remaining) == [0])
        #expect(try await store.reserve([checks[0]])[0].remaining == 20)
    }

    @Test("200 parallel requests of one user cannot spend more than the budget, across clients")
    func concurrency() async throws {
        let server = try await RedisServer()
        defer { server.stop() }
        let window = SlidingWindow(windowSeconds: 3600, limit: 1000)
        // Two stores on two clients: two gateway instances sharing one Redis.
        let a = RedisRateLimitStore(client: RedisClient(endpoint: try .init(url: server.url)))
        let b = RedisRateLimitStore(client: RedisClient(endpoint: try .init(url: server.url)))
        let allowed = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<200 {
                group.addTask {
                    try await (i % 2 == 0 ? a : b).reserve([
                        RateLimitCheck(key: "shared", kind: .tokens, window: window, amount: 7)
                    ])[0].allowed
                }
            }
            var count = 0
            for try await ok in group where ok { count += 1 }
            return count
        }
        #expect(allowed == 1000 / 7)
    }

    @Test("Redis down: fail-open serves, fail-closed answers 503; Redis back is picked up without a restart")
    func outage() async throws {
        let server = try await RedisServer()
        let policy = RateLimitPolicy(windowSeconds: 600, perUser: BudgetLimits(tokens: 100))
        let store = RedisRateLimitStore(client: RedisClient(endpoint: try .init(url: server.url)))
        let failures = Counter()
        let open = RateLimiter(policy: policy, store: store, failOpen: true) { if $0 != nil { failures.add() } }
        let closed = RateLimiter(policy: policy, store: store, failOpen: false)
        #expect(
            try await open.reserve(user: "u", model: "m", provider: "openai", tokens: 10).decisions[0].remaining == 90)
        server.stop()
        let served = try await open.reserve(user: "u", model: "m", provider: "openai", tokens: 10)
        #expect(served.unaccounted)
        #expect(failures.value >= 1)
        await #expect {
            try await closed.reserve(user: "u", model: "m", provider: "openai", tokens: 10)
        } throws: { ($0 as? GatewayError)?.status == 503 }
        try await server.start()
        var recovered: RateLimiter.Reservation?
        for _ in 0..<100 where recovered?.unaccounted != false {
            recovered = try? await closed.reserve(user: "u", model: "m", provider: "openai", tokens: 10)
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(recovered?.unaccounted == false)
        server.stop()
    }
}

/// A thread-safe counter for callbacks.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
