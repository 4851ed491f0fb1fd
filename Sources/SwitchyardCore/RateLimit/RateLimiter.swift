import Foundation

/// The budgets of the contract and the config file: before forwarding, reserve what a request may
/// spend (its counted prompt, the completion it allows, and one request) in every budget that
/// applies, answer 429 when one does not fit, and settle the tokens with the actual usage when the
/// answer ends, giving back what was reserved and not spent.
public struct RateLimiter: Sendable {
    /// Which budgets apply to a request.
    public let policy: RateLimitPolicy
    /// Where the state lives.
    public let store: any RateLimitStore
    /// When the store fails: serve anyway (true) or answer 503 (false).
    public let failOpen: Bool
    /// Told about every store failure and every success (to log incidents and count errors).
    public let onStoreResult: @Sendable ((any Error)?) -> Void

    /// Creates a limiter.
    public init(
        policy: RateLimitPolicy, store: any RateLimitStore, failOpen: Bool = true,
        onStoreResult: @escaping @Sendable ((any Error)?) -> Void = { _ in }
    ) {
        self.policy = policy
        self.store = store
        self.failOpen = failOpen
        self.onStoreResult = onStoreResult
    }

    /// A reservation to settle later.
    public struct Reservation: Sendable {
        /// The windows the request was reserved in.
        public var checks: [RateLimitCheck]
        /// One decision per check, for response headers.
        public var decisions: [SlidingWindow.Decision]
        /// True when the store failed and the request was let through without a reservation.
        public var unaccounted = false

        /// Tokens reserved (the counted prompt and the completion allowance), or 0 when no token
        /// budget applies.
        public var tokens: Int { checks.first { $0.kind == .tokens }?.amount ?? 0 }
        /// Billionths of a dollar reserved, or 0 when no dollar budget applies.
        public var cost: Int { checks.first { $0.kind == .usd }?.amount ?? 0 }
    }

    /// The completion tokens a request reserves beside its prompt.
    public enum CompletionAllowance: Sendable, Equatable {
        /// What the request states (`max_tokens`): reserved whole.
        case stated(Int)
        /// The configured default for a request that states none: capped so that the request
        /// alone fits the smallest token budget that applies when its prompt does.
        case byDefault(Int)
    }

    /// Reserves a request of `user` in every budget the policy applies to it, all or none: `tokens`
    /// (the counted prompt) and `completion`; in dollar budgets, their cost at `price` (a request
    /// that states no completion reserves `spendCompletion` tokens there, capped so that it alone
    /// fits the smallest dollar budget when its prompt does).
    /// - Throws: as `reserve(_:)`.
    public func reserve(
        user: String, userHeader: String? = nil, key: GatewayKey? = nil, model: String, provider: ProviderID,
        tokens: Int, completion: CompletionAllowance = .stated(0), price: ModelPrice? = nil, spendCompletion: Int = 0
    ) async throws(GatewayError) -> Reservation {
        var checks = policy.checks(
            user: user, userHeader: userHeader, key: key, model: model, provider: provider, tokens: tokens)
        let allowance: Int
        switch completion {
        case .stated(let stated):
            allowance = stated
        case .byDefault(let preferred):
            let smallest = checks.lazy.filter { $0.kind == .tokens }.map(\.window.limit).min() ?? 0
            allowance = min(preferred, max(0, smallest - tokens))
        }
        let (sum, overflow) = tokens.addingReportingOverflow(allowance)
        let cost = price.map { Self.cost(of: tokens, completion: completion, spendCompletion, at: $0, in: checks) } ?? 0
        for index in checks.indices {
            switch checks[index].kind {
            case .tokens: checks[index].amount = overflow ? .max : sum
            case .usd: checks[index].amount = cost
            case .requests: break
            }
        }
        return try await reserve(checks)
    }

    /// What a request reserves in dollar budgets: its prompt and its completion allowance at `price`.
    static func cost(
        of prompt: Int, completion: CompletionAllowance, _ preferred: Int, at price: ModelPrice,
        in checks: [RateLimitCheck]
    ) -> Int {
        let promptCost = price.nanodollars(TokenUsage(promptTokens: prompt, completionTokens: 0))
        let allowance: Int
        switch completion {
        case .stated(let stated):
            allowance = stated
        case .byDefault:
            let smallest = checks.lazy.filter { $0.kind == .usd }.map(\.window.limit).min() ?? .max
            let perToken = price.output * 1000
            let fits = perToken > 0 ? Double(max(0, smallest - promptCost)) / perToken : Double(preferred)
            allowance = min(preferred, Int(min(fits, Double(preferred)).rounded(.down)))
        }
        return price.nanodollars(TokenUsage(promptTokens: prompt, completionTokens: max(0, allowance)))
    }

    /// Reserves `checks`, all or none.
    /// - Throws: 429 in OpenAI's shape with `Retry-After` and the rate-limit headers; 503 when the
    ///   store fails and the limiter fails closed.
    public func reserve(_ checks: [RateLimitCheck]) async throws(GatewayError) -> Reservation {
        guard !checks.isEmpty else { return Reservation(checks: [], decisions: []) }
        let decisions: [SlidingWindow.Decision]
        do {
            decisions = try await store.reserve(checks)
            onStoreResult(nil)
        } catch {
            onStoreResult(error)
            guard failOpen else {
                throw GatewayError(
                    status: 503, type: "service_unavailable",
                    message: "The rate-limit store is unavailable; try again shortly.",
                    code: "rate_limit_store_unavailable")
            }
            let open = checks.map {
                SlidingWindow.Decision(
                    allowed: true, bucket: 0, remaining: $0.window.limit, retryAfter: 0, resetAfter: 0)
            }
            return Reservation(checks: checks, decisions: open, unaccounted: true)
        }
        if let refused = decisions.last, !refused.allowed {
            throw refusal(checks[decisions.count - 1], refused)
        }
        return Reservation(checks: checks, decisions: decisions)
    }

    func refusal(_ check: RateLimitCheck, _ decision: SlidingWindow.Decision) -> GatewayError {
        let per = check.window.name
        let scope = check.scope.isEmpty ? "" : " (\(check.scope))"
        var headers = Dictionary(
            uniqueKeysWithValues: Self.headers(checks: [check], decisions: [decision]).map { ($0.name, $0.value) })
        headers["retry-after"] = String(Int(decision.retryAfter.rounded(.up)))
        guard check.kind != .usd else {
            let (limit, amount) = (SpendBudget.usd(check.window.limit), SpendBudget.usd(check.amount))
            let message =
                check.amount > check.window.limit
                ? "Request too expensive\(scope): its prompt and the completion it allows would cost $\(amount), more than the budget of $\(limit) per \(per)."
                : "Budget exceeded\(scope): Limit $\(limit) per \(per), Used $\(SpendBudget.usd(check.window.limit - decision.remaining)), Requested $\(amount). It resets in \(Self.duration(decision.retryAfter))."
            return GatewayError(
                status: 429, type: "insufficient_quota", message: message, code: "budget_exceeded", headers: headers)
        }
        let limit = check.window.limit
        let message =
            check.amount > limit
            ? "Request too large: its prompt and the completion it allows come to \(check.amount) tokens, more than the limit of \(limit) tokens per \(per)\(scope)."
            : "Rate limit reached for \(check.kind.rawValue) per \(per)\(scope): Limit \(limit), Used \(limit - decision.remaining), Requested \(check.amount). Please try again in \(Self.duration(decision.retryAfter))."
        return GatewayError(
            status: 429, type: check.kind.rawValue, message: message, code: "rate_limit_exceeded", headers: headers)
    }

    /// Corrects the token reservations to the tokens actually spent, and the dollar reservations
    /// to the actual cost (0 and 0 refund them). Requests stay counted.
    public func settle(_ reservation: Reservation, actual: Int, cost: Int = 0) async {
        guard !reservation.unaccounted else { return }
        for (check, decision) in zip(reservation.checks, reservation.decisions) where check.kind != .requests {
            do {
                try await store.settle(
                    key: check.key, bucket: decision.bucket, reserved: check.amount,
                    actual: check.kind == .usd ? cost : actual, window: check.window)
                onStoreResult(nil)
            } catch {
                onStoreResult(error)
            }
        }
    }

    /// `x-ratelimit-{limit,remaining,reset}-tokens`, `-requests` and `-usd` (dollars), from the
    /// tightest budget of each kind, in that order.
    public func headers(_ reservation: Reservation) -> [RateLimitHeader] {
        Self.headers(checks: reservation.checks, decisions: reservation.decisions)
    }

    /// The headers of the tightest of `checks` of each kind, given each one's decision.
    static func headers(checks: [RateLimitCheck], decisions: [SlidingWindow.Decision]) -> [RateLimitHeader] {
        var headers: [RateLimitHeader] = []
        headers.reserveCapacity(3 * RateLimitCheck.Kind.allCases.count)
        for kind in RateLimitCheck.Kind.allCases {
            // The first of the least remaining, as `min(by:)` keeps it.
            let tightest = checks.indices.lazy.filter { checks[$0].kind == kind }
                .min { decisions[$0].remaining < decisions[$1].remaining }
            guard let index = tightest else { continue }
            let amount = kind == .usd ? SpendBudget.usd : { String($0) }
            headers.append(RateLimitHeader(kind: kind, figure: .limit, value: amount(checks[index].window.limit)))
            headers.append(RateLimitHeader(kind: kind, figure: .remaining, value: amount(decisions[index].remaining)))
            headers.append(RateLimitHeader(kind: kind, figure: .reset, value: duration(decisions[index].resetAfter)))
        }
        return headers
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
    /// else the user header, else a hash of the bearer token, else the client address. The token
    /// and the address are read only when they decide it.
    public static func user(
        header: String?, keyName: String?, bearerToken: @autoclosure () -> String?,
        address: @autoclosure () -> String?
    ) -> String {
        let header = header.flatMap { $0.isEmpty ? nil : $0 }
        if let keyName { return "key:\(keyName)" + (header.map { "/user:\($0)" } ?? "") }
        if let header { return "user:\(header)" }
        if let bearerToken = bearerToken(), !bearerToken.isEmpty {
            return "token:" + Hashing.sha256Hex(bearerToken).prefix(32)
        }
        return "ip:\(address() ?? "unknown")"
    }
}
