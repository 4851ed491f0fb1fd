import HTTPTypes
import Hummingbird
import NIOCore
import SwitchyardCore

/// One request's part of the budgets: the reservation made before forwarding and its settlement
/// when the answer ends (once, whatever way it ends).
struct TokenAccounting: Sendable {
    let limiter: RateLimiter
    let reservation: RateLimiter.Reservation
    /// The counted prompt (the reservation adds the completion allowance to it).
    let prompt: Int
    let counter: ChatTokenCounter?
    let metrics: GatewayMetrics
    let provider: String

    /// The rate-limit headers for the response.
    var headers: [String: String] { limiter.headers(reservation) }

    /// Counts the prompt and reserves it with the completion the request allows (its
    /// `max_tokens`, else the configured default), or throws the 429.
    static func reserve(
        gateway: Gateway, chat: ChatRequestEnvelope, target: ModelRouter.Target, request: Request,
        context: GatewayRequestContext, key: GatewayKey?, bodySize: Int
    ) async throws(GatewayError) -> TokenAccounting? {
        guard gateway.limiter != nil else { return nil }
        let counter = try? ChatTokenCounter(model: target.upstreamModel)
        // Without the rank files (a broken installation) a byte estimate still bounds spending.
        let prompt = await HeavyWork.run(bytes: bodySize) {
            counter?.promptTokens(messages: chat.messages, tools: chat.tools) ?? bodySize / 4
        }
        let completion = chat.maxCompletionTokens.map { RateLimiter.CompletionAllowance.stated($0) }
        return try await reserve(
            gateway: gateway, prompt: prompt,
            completion: completion ?? .byDefault(gateway.config.rateLimit.completionReserveTokens), counter: counter,
            target: target, user: gateway.user(request, context, key: key), key: key)
    }

    /// Counts an embeddings request's `input` (a text, texts, or token arrays) and reserves it;
    /// an embedding has no completion.
    static func reserve(
        gateway: Gateway, embeddingsInput input: JSONValue, target: ModelRouter.Target, request: Request,
        context: GatewayRequestContext, key: GatewayKey?, bodySize: Int
    ) async throws(GatewayError) -> TokenAccounting? {
        guard gateway.limiter != nil else { return nil }
        let counter = try? ChatTokenCounter(model: target.upstreamModel)
        let prompt = await HeavyWork.run(bytes: bodySize) { inputTokens(input, counter: counter) }
        return try await reserve(
            gateway: gateway, prompt: prompt, completion: .stated(0), counter: counter, target: target,
            user: gateway.user(request, context, key: key), key: key)
    }

    /// The tokens of an embeddings input: texts counted (by bytes without the rank files), token
    /// arrays by their length.
    static func inputTokens(_ input: JSONValue, counter: ChatTokenCounter?) -> Int {
        switch input {
        case .string(let text): counter?.completionTokens(text: text) ?? text.utf8.count / 4
        case .number: 1
        case .array(let items): items.reduce(0) { $0 + inputTokens($1, counter: counter) }
        case .object, .bool, .null: 0
        }
    }

    private static func reserve(
        gateway: Gateway, prompt: Int, completion: RateLimiter.CompletionAllowance, counter: ChatTokenCounter?,
        target: ModelRouter.Target, user: String, key: GatewayKey?
    ) async throws(GatewayError) -> TokenAccounting? {
        guard let limiter = gateway.limiter else { return nil }
        do throws(GatewayError) {
            let reservation = try await limiter.reserve(
                user: user, key: key, model: target.requestedModel, provider: target.endpoint.id, tokens: prompt,
                completion: completion)
            return TokenAccounting(
                limiter: limiter, reservation: reservation, prompt: prompt, counter: counter, metrics: gateway.metrics,
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
                prompt + (counter?.completionTokens(text: streamedText) ?? streamedText.utf8.count / 4)
            }
        }
        await limiter.settle(reservation, actual: actual)
    }

    /// Gives the reservation back: the request failed before anything was generated.
    func refund() async {
        await limiter.settle(reservation, actual: 0)
    }

    /// Ends a request that failed with `error`: gives `accounting`'s reservation back, puts its
    /// rate-limit headers on the error, and records the status. Returns the error to throw.
    static func failed(_ error: any Error, accounting: TokenAccounting?, trace: RequestTrace) async -> any Error {
        await accounting?.refund()
        trace.finish(error: error)
        guard var error = error as? GatewayError, let accounting else { return error }
        error.headers.merge(accounting.headers) { current, _ in current }
        return error
    }
}
