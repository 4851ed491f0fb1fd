import Foundation
import Synchronization

/// Where sliding-window state lives: in this process, or in Redis shared by many instances.
public protocol RateLimitStore: Sendable {
    /// Reserves every check's amount if each fits its window, or nothing at all. Returns one
    /// decision per check, in order, up to and including the first refused one.
    func reserve(_ checks: [RateLimitCheck]) async throws -> [SlidingWindow.Decision]
    /// Corrects an earlier reservation in state `key` to the amount actually spent.
    func settle(key: String, bucket: Int64, reserved: Int, actual: Int, window: SlidingWindow) async throws
}

/// The in-memory store: state keys spread over shards, each behind its own lock, so unrelated
/// users do not contend. Each check is reserved atomically under its shard's lock; when a later
/// check of the same request is refused, the earlier ones are given back, so spending never
/// passes a limit (a concurrent request may see the brief reservation and be refused). State idle
/// for a whole window is swept, so memory follows the number of active users, not of users ever seen.
public final class InMemoryRateLimitStore: RateLimitStore {
    struct Shard {
        var users: [String: SlidingWindow.State] = [:]
        var operations = 0

        /// Applies `change` to `user`'s state where it is stored (an empty state when there is
        /// none), so the state's buckets are changed without a copy; a state left empty is dropped.
        mutating func update<Result>(_ user: String, _ change: (inout SlidingWindow.State) -> Result) -> Result {
            guard let at = users.index(forKey: user) else {
                var state = SlidingWindow.State()
                let result = change(&state)
                if !state.buckets.isEmpty { users[user] = state }
                return result
            }
            let result = change(&users.values[at])
            if users.values[at].buckets.isEmpty { users.remove(at: at) }
            return result
        }
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

    /// Reserves every check or none.
    public func reserve(_ checks: [RateLimitCheck]) -> [SlidingWindow.Decision] {
        var decisions: [SlidingWindow.Decision] = []
        for check in checks {
            let decision = reserve(user: check.key, tokens: check.amount, window: check.window)
            decisions.append(decision)
            guard decision.allowed else {
                for (done, granted) in zip(checks, decisions.dropLast()) {
                    settle(key: done.key, bucket: granted.bucket, reserved: done.amount, actual: 0, window: done.window)
                }
                break
            }
        }
        return decisions
    }

    /// Atomically checks and reserves one state key.
    public func reserve(user: String, tokens: Int, window: SlidingWindow) -> SlidingWindow.Decision {
        let now = clock()
        return shard(for: user).mutex.withLock { shard in
            let decision = shard.update(user) { window.reserve(&$0, tokens: tokens, now: now) }
            shard.operations += 1
            if shard.operations % 256 == 0 { Self.sweep(&shard, window: window, now: now) }
            return decision
        }
    }

    /// Atomically settles.
    public func settle(key: String, bucket: Int64, reserved: Int, actual: Int, window: SlidingWindow) {
        let now = clock()
        shard(for: key).mutex.withLock { shard in
            shard.update(key) { window.settle(&$0, bucket: bucket, reserved: reserved, actual: actual, now: now) }
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
