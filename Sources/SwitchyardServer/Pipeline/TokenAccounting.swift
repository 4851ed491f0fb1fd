import HTTPTypes
import NIOCore
import SwitchyardCore

/// One request's part of the budgets: the reservation made at admission and its settlement when
/// the request ends (once, whatever way it ends).
struct TokenAccounting: Sendable {
    let limiter: RateLimiter
    let reservation: RateLimiter.Reservation

    /// The rate-limit headers for the answer.
    var headers: [(name: HTTPField.Name, value: String)] { limiter.headers(reservation).map(RateLimitFields.field) }

    /// Reserves `demand` for `user` in every budget (the completion it allows, else
    /// `defaultCompletion`; dollars at `price`), or throws the 429.
    static func reserve(
        _ demand: TokenDemand, defaultCompletion: Int, spendCompletion: Int, limiter: RateLimiter,
        target: ModelRouter.Target, user: String, userHeader: String?, key: GatewayKey?, price: ModelPrice?,
        metrics: GatewayMetrics
    ) async throws(GatewayError) -> TokenAccounting {
        do throws(GatewayError) {
            let reservation = try await limiter.reserve(
                user: user, userHeader: userHeader, key: key, model: target.requestedModel,
                provider: target.endpoint.id, tokens: demand.prompt,
                completion: demand.completion.map { .stated($0) } ?? .byDefault(defaultCompletion), price: price,
                spendCompletion: spendCompletion)
            return TokenAccounting(limiter: limiter, reservation: reservation)
        } catch {
            metrics.rateLimited(provider: target.endpoint.id.rawValue)
            throw error
        }
    }

    /// Settles with what the request was charged.
    func settle(_ charge: SpendMeter.Charge) async {
        await limiter.settle(
            reservation, actual: charge.usage.promptTokens + charge.usage.completionTokens, cost: charge.nanodollars)
    }

    /// Gives the reservation back: the request failed before anything was generated.
    func refund() async {
        await limiter.settle(reservation, actual: 0, cost: 0)
    }
}
