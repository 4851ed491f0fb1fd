import Foundation
import SwitchyardCore

/// Sliding-window state in Redis, shared by every gateway instance. Each state key's buckets are
/// one hash (`switchyard:rl:<key>`, field = bucket index); the check-and-reserve of all a request's
/// budgets runs as one Lua script, so it is atomic across instances and all-or-nothing. The script
/// only prunes, sums and conditionally adds; the decision's arithmetic (remaining, retry, reset) is
/// the same `SlidingWindow` code the in-memory store uses, applied to the buckets it returns.
/// All keys of one request go to one server (no Redis Cluster slot routing).
public final class RedisRateLimitStore: RateLimitStore {
    /// ARGV[1] = TTL; then per key: oldest bucket, current bucket, amount, limit.
    /// Returns {{1 or 0: fits, per key}, {live bucket, amount, ...} per key}; adds only when all fit.
    static let reserveScript = """
        local fits, lives, all = {}, {}, 1
        for k = 1, #KEYS do
          local base = 1 + (k - 1) * 4
          local oldest = tonumber(ARGV[base + 1])
          local amount = tonumber(ARGV[base + 3])
          local limit = tonumber(ARGV[base + 4])
          local fields = redis.call('HGETALL', KEYS[k])
          local used, live = 0, {}
          for i = 1, #fields, 2 do
            local bucket = tonumber(fields[i])
            local spent = tonumber(fields[i + 1])
            if bucket < oldest or spent <= 0 then
              redis.call('HDEL', KEYS[k], fields[i])
            else
              used = used + spent
              table.insert(live, fields[i])
              table.insert(live, fields[i + 1])
            end
          end
          if used + amount <= limit then fits[k] = 1 else fits[k] = 0; all = 0 end
          lives[k] = live
        end
        for k = 1, #KEYS do
          local base = 1 + (k - 1) * 4
          if all == 1 then redis.call('HINCRBY', KEYS[k], ARGV[base + 2], ARGV[base + 3]) end
          redis.call('EXPIRE', KEYS[k], ARGV[1])
        end
        local reply = {fits}
        for k = 1, #KEYS do table.insert(reply, lives[k]) end
        return reply
        """

    static let settleScript = """
        local delta = tonumber(ARGV[3])
        if delta > 0 then
          redis.call('HINCRBY', KEYS[1], ARGV[2], delta)
        elseif delta < 0 and redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
          if redis.call('HINCRBY', KEYS[1], ARGV[1], delta) <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
        end
        redis.call('EXPIRE', KEYS[1], ARGV[4])
        return 1
        """

    private let redis: RedisClient
    private let clock: @Sendable () -> Double

    /// Creates a store on a client.
    public init(client: RedisClient, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.redis = client
        self.clock = clock
    }

    static func key(_ user: String) -> String { "switchyard:rl:\(user)" }

    /// A Lua script and the digest Redis names it by, computed once.
    struct LuaScript: Sendable {
        let text: String
        let digest: String

        init(_ text: String) {
            self.text = text
            digest = Hashing.sha1Hex(text)
        }
    }

    static let reserve = LuaScript(reserveScript)
    static let settle = LuaScript(settleScript)

    /// Runs `script` by its digest, loading it with `EVAL` when Redis does not know it yet.
    func run(_ script: LuaScript, keys: [String], arguments: [String]) async throws -> RESPValue {
        do {
            return try await redis.send(["EVALSHA", script.digest, String(keys.count)] + keys + arguments)
        } catch RedisError.server(let message) where message.hasPrefix("NOSCRIPT") {
            return try await redis.send(["EVAL", script.text, String(keys.count)] + keys + arguments)
        }
    }

    /// Atomically checks and reserves every check in Redis, or none.
    public func reserve(_ checks: [RateLimitCheck]) async throws -> [SlidingWindow.Decision] {
        let now = clock()
        var arguments = [String(Self.ttl(checks.map(\.window.windowSeconds).max() ?? 0))]
        for check in checks {
            arguments += [
                String(check.window.oldestBucket(at: now)), String(check.window.bucket(at: now)), String(check.amount),
                String(check.window.limit),
            ]
        }
        let reply = try await run(Self.reserve, keys: checks.map { Self.key($0.key) }, arguments: arguments)
        guard case .array(let parts?) = reply, parts.count == checks.count + 1, case .array(let fits?) = parts[0],
            fits.count == checks.count
        else { throw RedisError.protocolViolation("unexpected script reply") }
        var decisions: [SlidingWindow.Decision] = []
        for (index, check) in checks.enumerated() {
            guard case .array(let fields?) = parts[index + 1] else {
                throw RedisError.protocolViolation("unexpected script reply")
            }
            var state = SlidingWindow.State()
            for i in stride(from: 0, to: fields.count - 1, by: 2) {
                if let bucket = fields[i].int, let amount = fields[i + 1].int { state.buckets[Int64(bucket)] = amount }
            }
            // Replay the decision on the buckets as they were; Redis decided atomically, its verdict stands.
            var decision = check.window.reserve(&state, tokens: check.amount, now: now)
            decision.allowed = fits[index].int == 1
            decision.bucket = check.window.bucket(at: now)
            decisions.append(decision)
            if !decision.allowed { break }
        }
        return decisions
    }

    static func ttl(_ windowSeconds: Double) -> Int { Int(windowSeconds * 1.1) + 60 }

    /// Atomically settles in Redis.
    public func settle(key: String, bucket: Int64, reserved: Int, actual: Int, window: SlidingWindow) async throws {
        let current = window.bucket(at: clock())
        _ = try await run(
            Self.settle, keys: [Self.key(key)],
            arguments: [
                String(bucket), String(current), String(actual - reserved), String(Self.ttl(window.windowSeconds)),
            ])
    }
}
