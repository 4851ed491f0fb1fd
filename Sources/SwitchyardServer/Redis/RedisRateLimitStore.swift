import Foundation
import SwitchyardCore

/// Sliding-window state in Redis, shared by every gateway instance. Each user's buckets are one
/// hash (`switchyard:rl:<user>`, field = bucket index); check-and-reserve runs as one Lua script,
/// so it is atomic across instances. The script only prunes, sums and conditionally adds; the
/// decision's arithmetic (remaining, retry, reset) is the same `SlidingWindow` code the in-memory
/// store uses, applied to the buckets the script returns.
public final class RedisRateLimitStore: RateLimitStore {
    static let reserveScript = """
        local oldest = tonumber(ARGV[1])
        local current = ARGV[2]
        local tokens = tonumber(ARGV[3])
        local limit = tonumber(ARGV[4])
        local fields = redis.call('HGETALL', KEYS[1])
        local used = 0
        local live = {}
        for i = 1, #fields, 2 do
          local bucket = tonumber(fields[i])
          local amount = tonumber(fields[i + 1])
          if bucket < oldest or amount <= 0 then
            redis.call('HDEL', KEYS[1], fields[i])
          else
            used = used + amount
            table.insert(live, fields[i])
            table.insert(live, fields[i + 1])
          end
        end
        local allowed = 0
        if used + tokens <= limit then
          redis.call('HINCRBY', KEYS[1], current, tokens)
          allowed = 1
        end
        redis.call('EXPIRE', KEYS[1], ARGV[5])
        return {allowed, live}
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

    /// Runs `script` by hash, loading it with `EVAL` when Redis does not know it yet.
    func run(_ script: String, keys: [String], arguments: [String]) async throws -> RESPValue {
        let sha = SHA1.hex(script)
        do {
            return try await redis.send(["EVALSHA", sha, String(keys.count)] + keys + arguments)
        } catch RedisError.server(let message) where message.hasPrefix("NOSCRIPT") {
            return try await redis.send(["EVAL", script, String(keys.count)] + keys + arguments)
        }
    }

    /// Atomically checks and reserves in Redis.
    public func reserve(user: String, tokens: Int, window: SlidingWindow) async throws -> SlidingWindow.Decision {
        let now = clock()
        let current = window.bucket(at: now)
        let oldest = current - SlidingWindow.bucketCount + 1
        let ttl = Int(window.windowSeconds * 1.1) + 60
        let reply = try await run(
            Self.reserveScript, keys: [Self.key(user)],
            arguments: [String(oldest), String(current), String(tokens), String(window.limit), String(ttl)])
        guard case .array(let parts?) = reply, parts.count == 2, let allowed = parts[0].int,
            case .array(let fields?) = parts[1]
        else { throw RedisError.protocolViolation("unexpected script reply") }
        var state = SlidingWindow.State()
        for i in stride(from: 0, to: fields.count - 1, by: 2) {
            if let bucket = fields[i].int, let amount = fields[i + 1].int { state.buckets[Int64(bucket)] = amount }
        }
        // Replay the decision on the buckets as they were; Redis already applied it.
        var replay = state
        var decision = window.reserve(&replay, tokens: tokens, now: now)
        // Redis decided atomically; its verdict stands.
        decision.allowed = allowed == 1
        decision.bucket = current
        return decision
    }

    /// Atomically settles in Redis.
    public func settle(user: String, bucket: Int64, reserved: Int, actual: Int, window: SlidingWindow) async throws {
        let current = window.bucket(at: clock())
        _ = try await run(
            Self.settleScript, keys: [Self.key(user)],
            arguments: [
                String(bucket), String(current), String(actual - reserved),
                String(Int(window.windowSeconds * 1.1) + 60),
            ])
    }
}
