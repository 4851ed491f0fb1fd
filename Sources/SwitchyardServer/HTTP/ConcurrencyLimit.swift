import Hummingbird
import SwitchyardCore
import Synchronization

/// Overload protection: at most `limit` API requests in flight (a stream counts until its last
/// byte is written: `StreamRelay` keeps the request's slot). The next one is refused at once with
/// 503 and `Retry-After`, never queued, so a flood cannot make every request slow.
struct ConcurrencyLimitMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

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

    let limit: Int
    let slots: Slots
    let metrics: GatewayMetrics

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard limit > 0, request.uri.path.hasPrefix("/v1/") else { return try await next(request, context) }
        guard slots.active.add(1, ordering: .relaxed).newValue <= limit else {
            slots.active.subtract(1, ordering: .relaxed)
            metrics.overloaded()
            var error = GatewayError.serviceUnavailable(
                "The gateway is handling its limit of \(limit) concurrent requests; retry shortly.", code: "overloaded")
            error.headers["retry-after"] = "1"
            throw error
        }
        var context = context
        context.concurrencySlot = Slot(slots)
        return try await next(request, context)
    }
}
