import NIOCore
import Synchronization

/// Passive health per deployment, a circuit breaker: after `threshold` consecutive failures a
/// deployment is out of rotation for `cooldown` seconds; then one trial request may use it, and
/// its outcome closes the breaker or opens it for another cooldown. Shared by all requests.
public final class DeploymentHealth: Sendable {
    struct State {
        var failures = 0
        var openUntil: Double?
        /// While a trial request runs, no other is admitted (until this time, in case it never reports).
        var trialUntil: Double?
    }

    private let threshold: Int
    private let cooldown: Double
    private let clock: @Sendable () -> Double
    private let states = Mutex<[String: State]>([:])

    /// Creates a tracker; `clock` returns seconds on any monotonic scale (injected by tests).
    public init(
        threshold: Int, cooldownSeconds: Double, clock: @escaping @Sendable () -> Double = DeploymentHealth.uptime
    ) {
        self.threshold = threshold
        self.cooldown = cooldownSeconds
        self.clock = clock
    }

    /// One deployment's breaker as the status API shows it.
    public struct Status: Sendable, Equatable {
        /// The deployment (`provider/model`).
        public var deployment: String
        /// Consecutive failures so far.
        public var failures: Int
        /// Seconds until it may take a request again (0: in rotation).
        public var secondsUntilAvailable: Double
    }

    /// Every deployment that has reported an outcome, by name.
    public func statuses() -> [Status] {
        let now = clock()
        return states.withLock { states in
            states.map { name, state in
                Status(
                    deployment: name, failures: state.failures,
                    secondsUntilAvailable: max(0, (state.openUntil ?? now) - now))
            }
        }.sorted { $0.deployment < $1.deployment }
    }

    /// Seconds since an arbitrary fixed point, monotonic. Read as the monotonic clock's
    /// nanoseconds: a `Duration`'s seconds and attoseconds take 128-bit arithmetic to split.
    public static func uptime() -> Double {
        Double(NIODeadline.now().uptimeNanoseconds) / 1e9
    }

    /// Whether `deployment` may take a request now. Past its cooldown this admits one trial
    /// request (another only if it has not reported within a cooldown); report its outcome.
    public func admit(_ deployment: String) -> Bool {
        let now = clock()
        return states.withLock { states in
            guard var state = states[deployment], let until = state.openUntil else { return true }
            guard now >= until, now >= state.trialUntil ?? now else { return false }
            state.trialUntil = now + cooldown
            states[deployment] = state
            return true
        }
    }

    /// Whether `deployment` is in rotation: closed, or past its cooldown with no trial running.
    public func isAvailable(_ deployment: String) -> Bool {
        let now = clock()
        return states.withLock { states in
            guard let state = states[deployment], let until = state.openUntil else { return true }
            return now >= until && now >= state.trialUntil ?? now
        }
    }

    /// Records a success: the breaker closes.
    public func succeeded(_ deployment: String) {
        states.withLock { states in
            if states[deployment] != nil { states[deployment] = nil }
        }
    }

    /// Records a failure; returns true when this failure opened the breaker.
    @discardableResult
    public func failed(_ deployment: String) -> Bool {
        let now = clock()
        return states.withLock { states in
            var state = states[deployment] ?? State()
            state.failures += 1
            let opens = state.trialUntil != nil || state.failures >= threshold
            if opens {
                state.openUntil = now + cooldown
                state.trialUntil = nil
            }
            states[deployment] = state
            return opens
        }
    }

    /// Seconds until `deployment` may be tried again (0 when it may be now).
    public func secondsUntilAvailable(_ deployment: String) -> Double {
        let now = clock()
        return states.withLock { states in max(0, (states[deployment]?.openUntil ?? now) - now) }
    }
}

extension ContinuousClock.Instant {
    /// A fixed instant to measure monotonic seconds from.
    fileprivate static let zeroReference = ContinuousClock.now
}
