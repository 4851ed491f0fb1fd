import Foundation
import Testing

@testable import SwitchyardCore

@Suite("Dollar budgets: scopes, calendar months, reservations")
struct SpendBudgetTests {
    static let alice = GatewayKey(name: "alice", digest: [], team: "research")
    static let bob = GatewayKey(name: "bob", digest: [])

    @Test("A budget covers the requests of its scope and holds one state per holder")
    func scopes() {
        func state(_ scope: SpendBudget.Scope, key: GatewayKey?, user: String? = nil) -> String? {
            SpendBudget(name: "b", scope: scope, nanodollars: 1).state(
                model: "gpt-4o", provider: "openai", key: key, user: user)
        }
        #expect(state(.everyone, key: nil) == "usd:b:")
        #expect(state(.key(nil), key: Self.alice) == "usd:b:alice")
        #expect(state(.key("bob"), key: Self.alice) == nil)
        #expect(state(.key(nil), key: nil) == nil)
        #expect(state(.team(nil), key: Self.alice) == "usd:b:research")
        #expect(state(.team("research"), key: Self.bob) == nil)
        #expect(state(.user(nil), key: nil, user: "carol") == "usd:b:carol")
        #expect(state(.user("dave"), key: nil, user: "carol") == nil)
        let claude = SpendBudget(name: "c", scope: .everyone, models: [ModelPattern("claude-*")], nanodollars: 1)
        #expect(claude.state(model: "gpt-4o", provider: "openai", key: nil, user: nil) == nil)
    }

    @Test("A calendar month is one bucket that resets on the first, in UTC")
    func calendarMonth() {
        let window = SlidingWindow(period: .calendarMonth, limit: 100)
        // 2026-12-31T23:59:59Z and 2027-01-01T00:00:00Z.
        let endOfYear = 1_798_761_599.0
        #expect(CalendarMonth.start(of: window.bucket(at: endOfYear) + 1) == endOfYear + 1)
        #expect(window.bucket(at: endOfYear + 1) == window.bucket(at: endOfYear) + 1)
        var state = SlidingWindow.State()
        #expect(window.reserve(&state, tokens: 100, now: endOfYear - 86_400).allowed)
        let refused = window.reserve(&state, tokens: 1, now: endOfYear)
        #expect(!refused.allowed)
        #expect(refused.retryAfter == 1)
        #expect(window.reserve(&state, tokens: 100, now: endOfYear + 1).allowed)
        // Leap years and every month boundary agree with Foundation's calendar.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for index in Int64(0)..<Int64(12 * 80) {
            let date = calendar.date(
                from: DateComponents(year: 1970 + Int(index / 12), month: Int(index % 12) + 1, day: 1))!
            #expect(CalendarMonth.start(of: index) == date.timeIntervalSince1970)
            #expect(CalendarMonth.index(at: date.timeIntervalSince1970) == index)
            #expect(CalendarMonth.index(at: date.timeIntervalSince1970 - 1) == index - 1)
        }
    }

    @Test("Reservations price the prompt and the completion allowed; settlement charges the real cost")
    func reservation() async throws {
        let clock = TestClock()
        let budget = SpendBudget(name: "team", scope: .team(nil), nanodollars: 10_000, period: .calendarMonth)
        let limiter = RateLimiter(
            policy: RateLimitPolicy(windowSeconds: 600, perUser: nil, spend: [budget]),
            store: InMemoryRateLimitStore(clock: clock.read))
        let price = ModelPrice(input: 0.15, output: 0.60)
        // 8 prompt tokens and max_tokens 4: 1,200 + 2,400 billionths reserved.
        let first = try await limiter.reserve(
            user: "u", key: Self.alice, model: "gpt-4o-mini", provider: "openai", tokens: 8, completion: .stated(4),
            price: price)
        #expect(first.cost == 3_600)
        await limiter.settle(first, actual: 13, cost: 3_750)
        let second = try await limiter.reserve(
            user: "u", key: Self.alice, model: "gpt-4o-mini", provider: "openai", tokens: 8, completion: .stated(4),
            price: price)
        #expect(limiter.headersByName(second)["x-ratelimit-remaining-usd"] == "0.00000265")
        await limiter.settle(second, actual: 13, cost: 3_750)
        await #expect(throws: GatewayError.self) {
            try await limiter.reserve(
                user: "u", key: Self.alice, model: "gpt-4o-mini", provider: "openai", tokens: 8, completion: .stated(4),
                price: price)
        }
        do {
            _ = try await limiter.reserve(
                user: "u", key: Self.alice, model: "gpt-4o-mini", provider: "openai", tokens: 8,
                completion: .stated(4), price: price)
        } catch {
            #expect(error.status == 429 && error.code == "budget_exceeded" && error.type == "insufficient_quota")
            #expect(error.headers["x-ratelimit-remaining-usd"] == "0.0000025")
            #expect(error.headers["x-ratelimit-limit-usd"] == "0.00001")
            #expect(error.message.contains("budget `team`") && error.message.contains("calendar month"))
        }
        // A key without a team is not in a team's budget.
        let free = try await limiter.reserve(
            user: "u", key: Self.bob, model: "gpt-4o-mini", provider: "openai", tokens: 8, price: price)
        #expect(free.checks.isEmpty)
    }

    @Test("Without max_tokens the default completion is reserved, capped so the request fits the budget alone")
    func defaultCompletion() {
        let check = RateLimitCheck(
            key: "usd:b:", kind: .usd, window: SlidingWindow(period: .calendarMonth, limit: 10_000), amount: 0)
        let price = ModelPrice(input: 1, output: 2)  // 1,000 and 2,000 billionths per token
        #expect(RateLimiter.cost(of: 2, completion: .byDefault(0), 1024, at: price, in: [check]) == 2_000 + 8_000)
        #expect(RateLimiter.cost(of: 2, completion: .byDefault(0), 3, at: price, in: [check]) == 2_000 + 6_000)
        #expect(RateLimiter.cost(of: 2, completion: .stated(100), 3, at: price, in: [check]) == 202_000)
    }

    @Test("Budgets come from the config file's budgets and the keys' budget_usd; bad ones say why")
    func configured() throws {
        let path = try TemporaryFile.write(
            """
            gateway_keys:
              - {name: alice, sha256: \(String(repeating: "ab", count: 32)), team: research, budget_usd: 20}
            budgets:
              - {name: research, team: research, usd: 50}
              - {name: claude-daily, match: "claude-*", usd: 5, period: day}
              - {name: per-user, user: "*", usd: 1, window_minutes: 60}
            """, suffix: ".yaml")
        let config = try ConfigLoader(environment: [:], configPath: path).load()
        let spend = config.rateLimit.spend
        #expect(spend.map(\.name) == ["research", "claude-daily", "per-user"])
        #expect(spend[0].scope == .team("research") && spend[0].nanodollars == 50_000_000_000)
        #expect(spend[1].period == .sliding(seconds: 86_400))
        #expect(spend[2].scope == .user(nil) && spend[2].period == .sliding(seconds: 3600))
        let own = try #require(config.keyring.keys[0].budget)
        #expect(own.name == "key:alice" && own.scope == .key("alice") && own.period == .calendarMonth)
        #expect(own.nanodollars == 20_000_000_000)
        #expect(config.keyring.keys[0].team == "research")
        #expect(config.isRateLimited)
        for bad in [
            "budgets:\n  - {name: x, key: a, team: b, usd: 1}", "budgets:\n  - {name: x, usd: 0}",
            "budgets:\n  - {name: x, usd: 1, period: week}",
            "budgets:\n  - {name: x, usd: 1, period: month, window_minutes: 5}",
        ] {
            let file = try TemporaryFile.write(bad, suffix: ".yaml")
            #expect(throws: ConfigError.self) { try ConfigLoader(environment: [:], configPath: file).load() }
        }
    }
}
