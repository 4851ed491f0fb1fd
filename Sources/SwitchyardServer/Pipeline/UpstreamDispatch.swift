import Foundation
import SwitchyardCore

/// The answer head of the deployment that served a request, with what it took to get there.
struct Dispatched: Sendable {
    /// The response whose body is still to be read.
    var response: UpstreamResponse
    /// The deployment that answered.
    var target: ModelRouter.Target
    /// Its adapter, which converts the answer.
    var adapter: any ProviderAdapter
}

/// A failed attempt: the client-facing error, how dispatch should go on, and what it says about
/// the deployment's health (nil: nothing, as when the client left).
struct AttemptFailure: Error {
    var error: GatewayError
    var outcome: AttemptOutcome
    var deploymentHealthy: Bool?
}

/// How a failed attempt should go on.
enum AttemptOutcome {
    /// Try the same deployment again after a backoff (connect errors, 429, 5xx).
    case retry
    /// Do not repeat it here, but another deployment may serve (timeouts).
    case nextDeployment
    /// Give up: the answer is final (a client error, or the client left).
    case final
}

extension Gateway {
    /// Sends a request through `plan` with retries and fallbacks: each deployment is tried up to
    /// 1 + `maxRetries` times with backoff on retryable failures, then the next one; the whole
    /// dispatch stays inside the retry budget. It ends at the first response head, so nothing has
    /// reached the client while it retries. Circuit-breaker outcomes are recorded per deployment.
    /// - Parameter build: the upstream request for a target, made by its adapter.
    func dispatch(
        _ plan: [ModelRouter.Target], record: inout RequestRecord,
        build: (ModelRouter.Target, any ProviderAdapter) throws(GatewayError) -> UpstreamRequest
    ) async throws(GatewayError) -> Dispatched {
        let policy = RetryPolicy(
            maxRetries: config.reliability.maxRetries, budgetSeconds: config.reliability.retryBudgetSeconds)
        let deadline = ContinuousClock.now + .seconds(policy.budgetSeconds)
        var lastError: GatewayError?
        var attempts = 0
        deployments: for index in plan.indices {
            let target = plan[index]
            // A deployment past its cooldown takes one trial request at a time.
            guard let (adapter, request) = try deployment(target, fallback: index > 0, record: &record, build: build)
            else { continue }
            for retry in 0...policy.maxRetries {
                attempts += 1
                let (traced, span) = attemptStarting(request, to: target, number: attempts, record: &record)
                let failure: AttemptFailure
                do {
                    let response = try await attempt(traced, adapter: adapter, provider: target.endpoint.id)
                    return answered(response, by: target, adapter: adapter, span: span)
                } catch {
                    failure = error
                }
                record.upstreamEnded()
                lastError = failure.error
                let next = try afterFailure(
                    failure, of: target, span: span, retry: retry, policy: policy, deadline: deadline)
                guard let wait = next else { continue deployments }
                metrics.retry(provider: target.endpoint.id.rawValue)
                try await pause(seconds: wait, else: failure.error)
            }
            if ContinuousClock.now >= deadline { break }
        }
        throw lastError ?? Self.noDeployment
    }

    /// The adapter of `target` and the request it sends there, or nil when the deployment is
    /// cooling down; a `fallback` is recorded as such. The synchronous steps of `dispatch` are kept
    /// out of it: an async function's frame holds what its inlined code stores, for the rest of
    /// the request's task.
    @inline(never)
    private func deployment(
        _ target: ModelRouter.Target, fallback: Bool, record: inout RequestRecord,
        build: (ModelRouter.Target, any ProviderAdapter) throws(GatewayError) -> UpstreamRequest
    ) throws(GatewayError) -> (any ProviderAdapter, UpstreamRequest)? {
        guard health.admit(target.deploymentKey) else { return nil }
        let adapter = try adapter(for: target)
        let request = try build(target, adapter)
        if fallback {
            record.routed(provider: target.endpoint.id.rawValue, model: target.requestedModel)
            metrics.fallback(provider: target.endpoint.id.rawValue)
        }
        return (adapter, request)
    }

    /// An attempt's start: its span, and the request carrying the trace's context.
    @inline(never)
    private func attemptStarting(
        _ request: UpstreamRequest, to target: ModelRouter.Target, number: Int, record: inout RequestRecord
    ) -> (UpstreamRequest, AttemptSpan?) {
        let span = record.span?.attempt(target, number: number)
        var traced = request
        if let span { span.inject(into: &traced) } else { record.span?.propagate(into: &traced) }
        record.upstreamStarted()
        return (traced, span)
    }

    /// A successful attempt: the deployment is healthy, the span ends, the answer is dispatched.
    @inline(never)
    private func answered(
        _ response: UpstreamResponse, by target: ModelRouter.Target, adapter: any ProviderAdapter, span: AttemptSpan?
    ) -> Dispatched {
        health.succeeded(target.deploymentKey)
        span?.end(status: response.status, error: nil, next: nil)
        return Dispatched(response: response, target: target, adapter: adapter)
    }

    /// What follows a failed attempt: the deployment's health and the attempt's span are updated,
    /// and the result is the wait before retrying the same deployment, or nil to go on to the next
    /// one (retries left and the budget allowing). Throws the failure when it is final. Kept out
    /// of `dispatch`, which is async: its frame holds what every await in it keeps, for the rest
    /// of the request's task (and so does what is inlined into it).
    @inline(never)
    private func afterFailure(
        _ failed: AttemptFailure, of target: ModelRouter.Target, span: AttemptSpan?, retry: Int, policy: RetryPolicy,
        deadline: ContinuousClock.Instant
    ) throws(GatewayError) -> Double? {
        let failure = failed.error
        switch failed.deploymentHealthy {
        case true?: health.succeeded(target.deploymentKey)
        case false?:
            if health.failed(target.deploymentKey) {
                logger.warning(
                    "deployment out of rotation after repeated failures",
                    metadata: ["deployment": "\(target.deploymentKey)"])
            }
        case nil: break
        }
        // Retried here only within the retries and the budget; otherwise the next deployment.
        var wait: Double?
        if case .retry = failed.outcome, retry < policy.maxRetries {
            let delay = policy.delay(
                retry: retry + 1, retryAfter: failure.headers["retry-after"], random: FastRandom.unit())
            if ContinuousClock.now + .seconds(delay) < deadline { wait = delay }
        }
        if case .final = failed.outcome {
            span?.end(status: nil, error: failure, next: "give_up")
            throw failure
        }
        span?.end(status: nil, error: failure, next: wait == nil ? "next_deployment" : "retry")
        return wait
    }

    /// The backoff before a retry; a wait cut short (the client left) ends dispatch with `failure`.
    @inline(never)
    private func pause(seconds: Double, else failure: GatewayError) async throws(GatewayError) {
        do {
            try await Task.sleep(for: .seconds(seconds))
        } catch {
            throw failure
        }
    }

    /// The 503 for a route whose every deployment is cooling down.
    static var noDeployment: GatewayError {
        .serviceUnavailable(
            "Every deployment for this model failed repeatedly and is out of rotation for a cooldown; retry shortly.")
    }

    /// The targets for `model` in the order to try them, skipping deployments cooling down; a 503
    /// with `Retry-After` when none is available.
    func plan(_ model: String, router: ModelRouter) throws(GatewayError) -> [ModelRouter.Target] {
        let plan = try router.plan(model, pick: FastRandom.unit()) { health.isAvailable($0.deploymentKey) }
            .map(learned.adjusted)
        guard !plan.isEmpty else {
            let all = try router.plan(model, pick: 0) { _ in true }
            let wait = all.map { health.secondsUntilAvailable($0.deploymentKey) }.min() ?? 1
            var error = Self.noDeployment
            error.headers["retry-after"] = String(max(1, Int(wait.rounded(.up))))
            throw error
        }
        return plan
    }
}
