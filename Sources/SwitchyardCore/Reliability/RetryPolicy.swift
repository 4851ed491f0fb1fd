import Foundation

/// When and how long to wait before trying an upstream again: exponential backoff with full
/// jitter, an upstream's `Retry-After` honoured, everything inside one time budget per request.
public struct RetryPolicy: Sendable, Equatable {
    /// Extra attempts per deployment.
    public var maxRetries: Int
    /// The longest a request may spend on retries and fallbacks, waits included.
    public var budgetSeconds: Double
    /// The first backoff's ceiling; each further attempt doubles it.
    public var baseDelaySeconds: Double = 0.25
    /// No single backoff waits longer than this (unless `Retry-After` asks for more).
    public var maxDelaySeconds: Double = 8

    /// Creates a policy.
    public init(maxRetries: Int, budgetSeconds: Double) {
        self.maxRetries = maxRetries
        self.budgetSeconds = budgetSeconds
    }

    /// Upstream statuses worth another attempt: rate limited, or a server-side failure.
    public static func isRetryable(status: Int) -> Bool { [429, 500, 502, 503, 504].contains(status) }

    /// The wait before retry number `retry` (1 for the first): a uniform draw (`random` in 0..<1)
    /// below the exponential ceiling, or the upstream's `Retry-After` when that is longer.
    public func delay(retry: Int, retryAfter: String?, random: Double, now: Date = Date()) -> Double {
        let ceiling = min(maxDelaySeconds, baseDelaySeconds * pow(2, Double(max(0, retry - 1))))
        let jittered = random * ceiling
        guard let retryAfter, let asked = Self.seconds(retryAfter: retryAfter, now: now) else { return jittered }
        return max(jittered, asked)
    }

    /// A `Retry-After` value in seconds: delta-seconds or an HTTP date; nil when unreadable.
    public static func seconds(retryAfter: String, now: Date) -> Double? {
        let text = retryAfter.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(text), seconds >= 0, seconds.isFinite { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }
}
