import Foundation

/// The per-user token budget of the contract: reserve the counted prompt before forwarding,
/// answer 429 when it does not fit, settle with the actual usage when the answer ends.
public struct TokenRateLimiter: Sendable {
    /// The window and budget.
    public let window: SlidingWindow
    /// Where the state lives.
    public let store: any RateLimitStore
    /// When the store fails: serve anyway (true) or answer 503 (false).
    public let failOpen: Bool
    /// Told about every store failure and every success (to log incidents and count errors).
    public let onStoreResult: @Sendable ((any Error)?) -> Void

    /// Creates a limiter.
    public init(
        window: SlidingWindow, store: any RateLimitStore, failOpen: Bool = true,
        onStoreResult: @escaping @Sendable ((any Error)?) -> Void = { _ in }
    ) {
        self.window = window
        self.store = store
        self.failOpen = failOpen
        self.onStoreResult = onStoreResult
    }

    /// A reservation to settle later.
    public struct Reservation: Sendable {
        /// The rate-limit user.
        public var user: String
        /// Tokens reserved (the counted prompt).
        public var tokens: Int
        /// The decision, for response headers.
        public var decision: SlidingWindow.Decision
        /// True when the store failed and the request was let through without a reservation.
        public var unaccounted = false
    }

    /// Reserves `tokens` for `user`.
    /// - Throws: 429 in OpenAI's shape with `Retry-After` and the rate-limit headers.
    public func reserve(user: String, tokens: Int) async throws(GatewayError) -> Reservation {
        let decision: SlidingWindow.Decision
        do {
            decision = try await store.reserve(user: user, tokens: tokens, window: window)
            onStoreResult(nil)
        } catch {
            onStoreResult(error)
            guard failOpen else {
                throw GatewayError(
                    status: 503, type: "service_unavailable",
                    message: "The rate-limit store is unavailable; try again shortly.",
                    code: "rate_limit_store_unavailable")
            }
            let open = SlidingWindow.Decision(
                allowed: true, bucket: 0, remaining: window.limit, retryAfter: 0, resetAfter: 0)
            return Reservation(user: user, tokens: tokens, decision: open, unaccounted: true)
        }
        guard decision.allowed else {
            let used = window.limit - decision.remaining
            let wait = Self.duration(decision.retryAfter)
            let message =
                tokens > window.limit
                ? "Request too large: the prompt has \(tokens) tokens, more than the limit of \(window.limit) tokens per \(Self.duration(window.windowSeconds))."
                : "Rate limit reached for tokens per \(Self.duration(window.windowSeconds)): Limit \(window.limit), Used \(used), Requested \(tokens). Please try again in \(wait)."
            var headers = headers(decision)
            headers["retry-after"] = String(Int(decision.retryAfter.rounded(.up)))
            throw GatewayError(
                status: 429, type: "tokens", message: message, code: "rate_limit_exceeded", headers: headers)
        }
        return Reservation(user: user, tokens: tokens, decision: decision)
    }

    /// Corrects the reservation to the tokens actually spent (0 refunds it).
    public func settle(_ reservation: Reservation, actual: Int) async {
        guard !reservation.unaccounted else { return }
        do {
            try await store.settle(
                user: reservation.user, bucket: reservation.decision.bucket, reserved: reservation.tokens,
                actual: actual,
                window: window)
            onStoreResult(nil)
        } catch {
            onStoreResult(error)
        }
    }

    /// `x-ratelimit-limit-tokens`, `x-ratelimit-remaining-tokens`, `x-ratelimit-reset-tokens`.
    public func headers(_ decision: SlidingWindow.Decision) -> [String: String] {
        [
            "x-ratelimit-limit-tokens": String(window.limit),
            "x-ratelimit-remaining-tokens": String(decision.remaining),
            "x-ratelimit-reset-tokens": Self.duration(decision.resetAfter),
        ]
    }

    /// A duration as OpenAI writes them: `20ms`, `1s`, `6m0s`, `1h2m3s`.
    public static func duration(_ seconds: Double) -> String {
        if seconds < 1 { return "\(Int((seconds * 1000).rounded(.up)))ms" }
        let total = Int(seconds.rounded(.up))
        let (h, m, s) = (total / 3600, total % 3600 / 60, total % 60)
        if h > 0 { return "\(h)h\(m)m\(s)s" }
        if m > 0 { return "\(m)m\(s)s" }
        return "\(s)s"
    }

    /// The rate-limit user: the gateway key's name (with the user header inside it when given),
    /// else the user header, else a hash of the bearer token, else the client address.
    public static func user(header: String?, keyName: String?, bearerToken: String?, address: String?) -> String {
        let header = header.flatMap { $0.isEmpty ? nil : $0 }
        if let keyName { return "key:\(keyName)" + (header.map { "/user:\($0)" } ?? "") }
        if let header { return "user:\(header)" }
        if let bearerToken, !bearerToken.isEmpty { return "token:" + SHA256.hex(bearerToken).prefix(32) }
        return "ip:\(address ?? "unknown")"
    }
}
