import SwitchyardCore
import Synchronization

/// Overload protection: at most `limit` API requests in flight (a stream counts until its last
/// byte is written: `StreamRelay` keeps the request's slot). The next one is refused at once with
/// 503 and `Retry-After`, never queued, so a flood cannot make every request slow.
struct ConcurrencyLimit: Sendable {
    /// Requests in flight, shared by every connection.
    final class Slots: Sendable {
        let active = Atomic<Int>(0)
    }

    /// One request's slot, carried in its context; freed when the last holder lets go: the
    /// handler when it returns, a streamed body when it is written.
    final class Slot: Sendable {
        let slots: Slots
        init(_ slots: Slots) { self.slots = slots }
        deinit { slots.active.subtract(1, ordering: .relaxed) }
    }

    /// The most requests in flight; 0 for no limit.
    let limit: Int
    /// Where refusals are counted.
    let metrics: GatewayMetrics
    private let slots = Slots()

    /// A limit of `limit` requests (0: none), counting refusals in `metrics`.
    init(limit: Int, metrics: GatewayMetrics) {
        self.limit = limit
        self.metrics = metrics
    }

    /// A slot for one more request (nil without a limit), or the 503 when all are taken.
    func admit() throws(GatewayError) -> Slot? {
        guard limit > 0 else { return nil }
        guard slots.active.add(1, ordering: .relaxed).newValue <= limit else {
            slots.active.subtract(1, ordering: .relaxed)
            metrics.overloaded()
            var error = GatewayError.serviceUnavailable(
                "The gateway is handling its limit of \(limit) concurrent requests; retry shortly.", code: "overloaded")
            error.headers["retry-after"] = "1"
            throw error
        }
        return Slot(slots)
    }
}
