import NIOCore
import SwitchyardCore

/// One request's part of the budgets: the reservation made at admission and its settlement when
/// the request ends (once, whatever way it ends).
struct TokenAccounting: Sendable {
    let limiter: RateLimiter
    let reservation: RateLimiter.Reservation
    /// The counted prompt (the reservation adds the completion allowance to it).
    let prompt: Int
    let counter: ChatTokenCounter?
    let metrics: GatewayMetrics
    let provider: String

    /// The rate-limit headers for the answer.
    var headers: [String: String] { limiter.headers(reservation) }

    /// Reserves `demand` for `user` (the completion it allows, else `defaultCompletion`), or
    /// throws the 429.
    static func reserve(
        _ demand: TokenDemand, defaultCompletion: Int, limiter: RateLimiter, counter: ChatTokenCounter?,
        target: ModelRouter.Target, user: String, key: GatewayKey?, metrics: GatewayMetrics
    ) async throws(GatewayError) -> TokenAccounting {
        let provider = target.endpoint.id.rawValue
        do throws(GatewayError) {
            let reservation = try await limiter.reserve(
                user: user, key: key, model: target.requestedModel, provider: target.endpoint.id, tokens: demand.prompt,
                completion: demand.completion.map { .stated($0) } ?? .byDefault(defaultCompletion))
            return TokenAccounting(
                limiter: limiter, reservation: reservation, prompt: demand.prompt, counter: counter, metrics: metrics,
                provider: provider)
        } catch {
            metrics.rateLimited(provider: provider)
            throw error
        }
    }

    /// Settles with the provider's usage; without it, with the prompt plus the counted text.
    func settle(usage: TokenUsage?, streamedText: String) async {
        let actual: Int
        if let usage {
            actual = usage.promptTokens + usage.completionTokens
        } else {
            metrics.usageEstimated(provider: provider)
            actual = await HeavyWork.run(bytes: streamedText.utf8.count) {
                prompt + (counter?.completionTokens(text: streamedText) ?? streamedText.utf8.count / 4)
            }
        }
        await limiter.settle(reservation, actual: actual)
    }

    /// Gives the reservation back: the request failed before anything was generated.
    func refund() async {
        await limiter.settle(reservation, actual: 0)
    }
}
