/// A budget's window, as pure arithmetic over one user's state: a sliding window, or a calendar
/// month (UTC) that starts afresh on the first of each month.
///
/// A sliding window of length W is divided into `bucketCount` (60) sub-buckets of W/60; an amount
/// spent at time t counts until the bucket holding t is a full window old. So the usage seen at any
/// moment is the exact sum over the last W, rounded outward to whole buckets: a token stops
/// counting between W and W + W/60 after it was spent (at most 1 minute late for the default
/// 60-minute window), and never early — the budget is never exceeded by the rounding. A calendar
/// month is one bucket, numbered by months since January 1970.
public struct SlidingWindow: Sendable, Equatable {
    /// Sub-buckets per sliding window.
    public static let bucketCount: Int64 = 60

    /// How long spending counts.
    public enum Period: Sendable, Equatable {
        /// The last so many seconds.
        case sliding(seconds: Double)
        /// The current calendar month, in UTC.
        case calendarMonth
    }

    /// The window's period.
    public let period: Period
    /// Amount allowed per window.
    public let limit: Int

    /// Creates a sliding window of `windowSeconds`.
    public init(windowSeconds: Double, limit: Int) {
        self.init(period: .sliding(seconds: windowSeconds), limit: limit)
    }

    /// Creates a window over `period`.
    public init(period: Period, limit: Int) {
        self.period = period
        self.limit = limit
    }

    /// The longest time spending counts, in seconds (31 days for a calendar month).
    public var windowSeconds: Double {
        switch period {
        case .sliding(let seconds): seconds
        case .calendarMonth: 31 * 86_400
        }
    }

    /// The period as messages name it: `1h`, `10m0s`, `calendar month`.
    public var name: String {
        switch period {
        case .sliding(let seconds): RateLimiter.duration(seconds)
        case .calendarMonth: "calendar month"
        }
    }

    var bucketSeconds: Double { windowSeconds / Double(Self.bucketCount) }

    /// Buckets that count at once.
    var span: Int64 { period == .calendarMonth ? 1 : Self.bucketCount }

    /// The bucket that holds time `now` (seconds since 1970).
    public func bucket(at now: Double) -> Int64 {
        switch period {
        case .sliding: Int64((now / bucketSeconds).rounded(.down))
        case .calendarMonth: CalendarMonth.index(at: now)
        }
    }

    /// The oldest bucket that still counts at `now`.
    public func oldestBucket(at now: Double) -> Int64 { bucket(at: now) - span + 1 }

    /// When spending in `bucket` stops counting (seconds since 1970).
    func expiry(of bucket: Int64) -> Double {
        switch period {
        case .sliding: Double(bucket + Self.bucketCount) * bucketSeconds
        case .calendarMonth: CalendarMonth.start(of: bucket + 1)
        }
    }

    /// One user's spending: tokens by bucket.
    public struct State: Sendable, Equatable {
        /// Tokens per bucket index.
        public var buckets = Buckets()
        /// Creates an empty state.
        public init() {}
    }

    /// Amounts by bucket index, oldest bucket first. A window holds at most `bucketCount` buckets
    /// and spending lands in the newest, so a short sorted array, searched from its end and pruned
    /// at its front, serves where a dictionary would hash every key and rebuild itself to prune.
    public struct Buckets: Sendable, Equatable {
        /// One bucket's amount.
        struct Entry: Sendable, Equatable {
            var bucket: Int64
            var amount: Int
        }

        /// The buckets in increasing index order, each index once.
        private(set) var entries: [Entry] = []

        /// Whether no bucket is held.
        public var isEmpty: Bool { entries.isEmpty }

        /// The amount in `bucket`, nil when it is not held; setting nil removes it.
        public subscript(bucket: Int64) -> Int? {
            get {
                let at = position(of: bucket)
                return at < entries.count && entries[at].bucket == bucket ? entries[at].amount : nil
            }
            set {
                let at = position(of: bucket)
                let held = at < entries.count && entries[at].bucket == bucket
                switch (newValue, held) {
                case (let amount?, true): entries[at].amount = amount
                case (let amount?, false): entries.insert(Entry(bucket: bucket, amount: amount), at: at)
                case (nil, true): entries.remove(at: at)
                case (nil, false): break
                }
            }
        }

        /// The amount in `bucket`, `value` when it is not held.
        public subscript(bucket: Int64, default value: Int) -> Int {
            get { self[bucket] ?? value }
            set { self[bucket] = newValue }
        }

        /// Keeps only the buckets `keep` accepts, in place.
        mutating func keep(where keep: (Entry) -> Bool) {
            guard !entries.allSatisfy(keep) else { return }
            entries.removeAll { !keep($0) }
        }

        /// The first position whose bucket is not before `bucket` (where it is, or would be
        /// inserted), searched from the newest end.
        private func position(of bucket: Int64) -> Int {
            var at = entries.count
            while at > 0, entries[at - 1].bucket >= bucket { at -= 1 }
            return at
        }
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
        let oldest = oldestBucket(at: now)
        state.buckets.keep { $0.bucket >= oldest && $0.amount > 0 }
    }

    /// Tokens spent in the window ending at `now`.
    public func used(_ state: State, now: Double) -> Int {
        let oldest = oldestBucket(at: now)
        return state.buckets.entries.reduce(0) { $0 + ($1.bucket >= oldest ? max($1.amount, 0) : 0) }
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
        for entry in state.buckets.entries {
            freed += entry.amount
            if used - freed + tokens <= limit {
                retry = expiry(of: entry.bucket) - now
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
        guard let newest = state.buckets.entries.last(where: { $0.amount > 0 }) else { return 0 }
        return max(expiry(of: newest.bucket) - now, 0)
    }
}

/// Calendar months in UTC as consecutive numbers (January 1970 is 0), by civil-date arithmetic.
enum CalendarMonth {
    /// The month holding `seconds` since 1970.
    static func index(at seconds: Double) -> Int64 {
        let days = Int64((seconds / 86_400).rounded(.down))
        let (year, month) = civil(days: days)
        return (year - 1970) * 12 + month - 1
    }

    /// The first second of month `index`.
    static func start(of index: Int64) -> Double {
        let year = 1970 + Int64((Double(index) / 12).rounded(.down))
        let month = index - (year - 1970) * 12 + 1
        return Double(days(year: year, month: month)) * 86_400
    }

    /// Days since 1970-01-01 of the first of `month` in `year` (Howard Hinnant's days_from_civil).
    static func days(year: Int64, month: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The year and month of a day since 1970-01-01 (Howard Hinnant's civil_from_days).
    static func civil(days: Int64) -> (year: Int64, month: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let month = mp + (mp < 10 ? 3 : -9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month)
    }
}
