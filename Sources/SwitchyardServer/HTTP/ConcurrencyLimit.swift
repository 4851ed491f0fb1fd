import SwitchyardCore
import Synchronization

/// Overload protection: at most `limit` API requests in flight (a stream counts until its last
/// byte is written). The next one is refused at once with 503 and `Retry-After`, never queued, so
/// a flood cannot make every request slow. The request lifecycle takes a slot when it accepts a
/// request and gives it back when the request ends.
final class ConcurrencyLimit: Sendable {
    /// The most requests in flight; 0 for no limit.
    let limit: Int
    /// Where refusals are counted.
    private let metrics: GatewayMetrics
    /// Requests in flight, shared by every connection.
    private let active = Atomic<Int>(0)

    /// A limit of `limit` requests (0: none), counting refusals in `metrics`.
    init(limit: Int, metrics: GatewayMetrics) {
        self.limit = limit
        self.metrics = metrics
    }

    /// Takes a slot for one more request: true when one was taken (and must be released), false
    /// without a limit; the 503 when all are taken.
    func admit() throws(GatewayError) -> Bool {
        guard limit > 0 else { return false }
        guard active.add(1, ordering: .relaxed).newValue <= limit else {
            active.subtract(1, ordering: .relaxed)
            metrics.overloaded()
            var error = GatewayError.serviceUnavailable(
                "The gateway is handling its limit of \(limit) concurrent requests; retry shortly.", code: "overloaded")
            error.headers["retry-after"] = "1"
            throw error
        }
        return true
    }

    /// Gives back a slot `admit` took.
    func release() {
        active.subtract(1, ordering: .relaxed)
    }
}
