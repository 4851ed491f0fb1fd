import Foundation
import Synchronization

/// Where sliding-window state lives: in this process, or (later) in Redis shared by many
/// instances. Check-and-reserve is atomic per user in every store.
public protocol RateLimitStore: Sendable {
    /// Reserves `tokens` for `user` if they fit.
    func reserve(user: String, tokens: Int, window: SlidingWindow) async throws -> SlidingWindow.Decision
    /// Corrects an earlier reservation to the tokens actually spent.
    func settle(user: String, bucket: Int64, reserved: Int, actual: Int, window: SlidingWindow) async throws
}

/// The in-memory store: users spread over shards, each behind its own lock, so unrelated users
/// do not contend. State of users idle for a whole window is swept, so memory follows the number
/// of active users, not of users ever seen.
public final class InMemoryRateLimitStore: RateLimitStore {
    struct Shard {
        var users: [String: SlidingWindow.State] = [:]
        var operations = 0
    }

    final class LockedShard: Sendable {
        let mutex = Mutex(Shard())
    }

    private let shards: [LockedShard]
    private let clock: @Sendable () -> Double

    /// Creates a store.
    /// - Parameters:
    ///   - shardCount: number of independently locked shards.
    ///   - clock: seconds since some fixed point (injected in tests).
    public init(shardCount: Int = 32, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        shards = (0..<max(shardCount, 1)).map { _ in LockedShard() }
        self.clock = clock
    }

    private func shard(for user: String) -> LockedShard {
        var hasher = Hasher()
        hasher.combine(user)
        return shards[Int(UInt(bitPattern: hasher.finalize()) % UInt(shards.count))]
    }

    /// Atomically checks and reserves.
    public func reserve(user: String, tokens: Int, window: SlidingWindow) -> SlidingWindow.Decision {
        let now = clock()
        return shard(for: user).mutex.withLock { shard in
            var state = shard.users[user] ?? .init()
            let decision = window.reserve(&state, tokens: tokens, now: now)
            shard.users[user] = state.buckets.isEmpty ? nil : state
            shard.operations += 1
            if shard.operations % 256 == 0 { Self.sweep(&shard, window: window, now: now) }
            return decision
        }
    }

    /// Atomically settles.
    public func settle(user: String, bucket: Int64, reserved: Int, actual: Int, window: SlidingWindow) {
        let now = clock()
        shard(for: user).mutex.withLock { shard in
            var state = shard.users[user] ?? .init()
            window.settle(&state, bucket: bucket, reserved: reserved, actual: actual, now: now)
            shard.users[user] = state.buckets.isEmpty ? nil : state
        }
    }

    /// Users with state, across shards (for tests and metrics).
    public var trackedUsers: Int { shards.reduce(0) { $0 + $1.mutex.withLock { $0.users.count } } }

    /// Removes every user whose spending has left the window.
    public func sweepAll(window: SlidingWindow) {
        let now = clock()
        for shard in shards { shard.mutex.withLock { Self.sweep(&$0, window: window, now: now) } }
    }

    private static func sweep(_ shard: inout Shard, window: SlidingWindow, now: Double) {
        for (user, var state) in shard.users {
            window.prune(&state, now: now)
            shard.users[user] = state.buckets.isEmpty ? nil : state
        }
    }
}
