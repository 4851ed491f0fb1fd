/// The sliding-window token budget, as pure arithmetic over one user's state.
///
/// The window of length W is divided into `bucketCount` (60) sub-buckets of W/60; a token spent
/// at time t counts until the bucket holding t is a full window old. So the usage seen at any
/// moment is the exact sum over the last W, rounded outward to whole buckets: a token stops
/// counting between W and W + W/60 after it was spent (at most 1 minute late for the default
/// 60-minute window), and never early — the budget is never exceeded by the rounding.
public struct SlidingWindow: Sendable, Equatable {
    /// Sub-buckets per window.
    public static let bucketCount: Int64 = 60

    /// Window length in seconds.
    public let windowSeconds: Double
    /// Tokens allowed per window.
    public let limit: Int

    /// Creates a window.
    public init(windowSeconds: Double, limit: Int) {
        self.windowSeconds = windowSeconds
        self.limit = limit
    }

    var bucketSeconds: Double { windowSeconds / Double(Self.bucketCount) }

    /// The bucket that holds time `now` (seconds).
    public func bucket(at now: Double) -> Int64 { Int64((now / bucketSeconds).rounded(.down)) }

    /// One user's spending: tokens by bucket.
    public struct State: Sendable, Equatable {
        /// Tokens per bucket index.
        public var buckets: [Int64: Int] = [:]
        /// Creates an empty state.
        public init() {}
    }

    /// The outcome of a reservation attempt.
    public struct Decision: Sendable, Equatable {
        /// Whether the tokens were reserved.
        public var allowed: Bool
        /// The bucket the tokens were put in (for settlement).
        public var bucket: Int64
        /// Tokens left in the window after this decision.
        public var remaining: Int
        /// Seconds until enough tokens expire for the request to fit (0 when allowed).
        public var retryAfter: Double
        /// Seconds until everything spent so far has left the window.
        public var resetAfter: Double

        /// Creates a decision.
        public init(allowed: Bool, bucket: Int64, remaining: Int, retryAfter: Double, resetAfter: Double) {
            self.allowed = allowed
            self.bucket = bucket
            self.remaining = remaining
            self.retryAfter = retryAfter
            self.resetAfter = resetAfter
        }
    }

    /// Drops buckets that have left the window.
    public func prune(_ state: inout State, now: Double) {
        let oldest = bucket(at: now) - Self.bucketCount + 1
        state.buckets = state.buckets.filter { $0.key >= oldest && $0.value > 0 }
    }

    /// Tokens spent in the window ending at `now`.
    public func used(_ state: State, now: Double) -> Int {
        let oldest = bucket(at: now) - Self.bucketCount + 1
        return state.buckets.reduce(0) { $0 + ($1.key >= oldest ? max($1.value, 0) : 0) }
    }

    /// Reserves `tokens` if they fit in the budget; otherwise says when they would.
    public func reserve(_ state: inout State, tokens: Int, now: Double) -> Decision {
        prune(&state, now: now)
        let current = bucket(at: now)
        let used = used(state, now: now)
        if used + tokens <= limit {
            state.buckets[current, default: 0] += tokens
            return Decision(
                allowed: true, bucket: current, remaining: limit - used - tokens, retryAfter: 0,
                resetAfter: resetAfter(state, now: now))
        }
        // Walk from the oldest bucket until enough would have expired.
        var freed = 0
        var retry = windowSeconds
        for (index, amount) in state.buckets.sorted(by: { $0.key < $1.key }) {
            freed += amount
            if used - freed + tokens <= limit {
                retry = Double(index + Self.bucketCount) * bucketSeconds - now
                break
            }
        }
        return Decision(
            allowed: false, bucket: current, remaining: max(limit - used, 0), retryAfter: max(retry, 0),
            resetAfter: resetAfter(state, now: now))
    }

    /// Corrects a reservation of `reserved` tokens in `bucket` to the `actual` count: more is
    /// charged now, less is given back to the bucket it was taken from (if still in the window).
    public func settle(_ state: inout State, bucket reservedBucket: Int64, reserved: Int, actual: Int, now: Double) {
        let delta = actual - reserved
        if delta > 0 {
            state.buckets[bucket(at: now), default: 0] += delta
        } else if delta < 0, let amount = state.buckets[reservedBucket] {
            state.buckets[reservedBucket] = max(amount + delta, 0)
        }
        prune(&state, now: now)
    }

    func resetAfter(_ state: State, now: Double) -> Double {
        guard let newest = state.buckets.filter({ $0.value > 0 }).keys.max() else { return 0 }
        return max(Double(newest + Self.bucketCount) * bucketSeconds - now, 0)
    }
}
