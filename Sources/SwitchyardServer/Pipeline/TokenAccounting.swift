import HTTPTypes
import Hummingbird
import NIOCore
import SwitchyardCore

/// One request's part of the budgets: the reservation made before forwarding and its settlement
/// when the answer ends (once, whatever way it ends).
struct TokenAccounting: Sendable {
    let limiter: RateLimiter
    let reservation: RateLimiter.Reservation
    let counter: ChatTokenCounter?
    let metrics: GatewayMetrics
    let provider: String

    /// The rate-limit headers for the response.
    var headers: [String: String] { limiter.headers(reservation) }

    /// Counts the prompt and reserves it, or throws the 429.
    static func reserve(
        gateway: Gateway, chat: ChatRequestEnvelope, target: ModelRouter.Target, request: Request,
        context: GatewayRequestContext, key: GatewayKey?, bodySize: Int
    ) async throws(GatewayError) -> TokenAccounting? {
        guard let limiter = gateway.limiter else { return nil }
        let counter = try? ChatTokenCounter(model: target.upstreamModel)
        // Without the rank files (a broken installation) a byte estimate still bounds spending.
        let prompt = await HeavyWork.run(bytes: bodySize) {
            counter?.promptTokens(messages: chat.messages, tools: chat.tools) ?? bodySize / 4
        }
        let user = gateway.user(request, context, key: key)
        do throws(GatewayError) {
            let reservation = try await limiter.reserve(
                user: user, key: key, model: target.requestedModel, provider: target.endpoint.id, tokens: prompt)
            return TokenAccounting(
                limiter: limiter, reservation: reservation, counter: counter, metrics: gateway.metrics,
                provider: target.endpoint.id.rawValue)
        } catch {
            gateway.metrics.rateLimited(provider: target.endpoint.id.rawValue)
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
                reservation.tokens + (counter?.completionTokens(text: streamedText) ?? streamedText.utf8.count / 4)
            }
        }
        await limiter.settle(reservation, actual: actual)
    }

    /// Gives the reservation back: the request failed before anything was generated.
    func refund() async {
        await limiter.settle(reservation, actual: 0)
    }
}
