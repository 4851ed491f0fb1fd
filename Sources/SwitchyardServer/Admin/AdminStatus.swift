import SwitchyardCore

extension AdminRoutes {
    /// `GET /admin/status`: providers with their recent error rate and latency percentiles,
    /// deployments' circuit breakers, requests and streams in flight, the budgets' store and the
    /// ledger's queue.
    func status() -> JSONValue {
        let stats = Dictionary(uniqueKeysWithValues: gateway.providerStats.summaries().map { ($0.provider, $0) })
        func seconds(_ value: Double?) -> JSONValue { value.map { .number(($0 * 10_000).rounded() / 10_000) } ?? .null }
        let providers: [JSONValue] = gateway.current.router.providers.values.sorted { $0.id.rawValue < $1.id.rawValue }
            .map {
                let recent = stats[$0.id.rawValue]
                return [
                    "name": .string($0.id.rawValue), "kind": .string($0.kind.rawValue),
                    "base_url": .string("\($0.baseURL)"),
                    "recent_attempts": .number(Double(recent?.attempts ?? 0)),
                    "recent_error_rate": .number(((recent?.errorRate ?? 0) * 10_000).rounded() / 10_000),
                    "latency_p50_seconds": seconds(recent?.p50), "latency_p95_seconds": seconds(recent?.p95),
                    "latency_p99_seconds": seconds(recent?.p99),
                ]
            }
        let deployments: [JSONValue] = gateway.health.statuses().map {
            [
                "deployment": .string($0.deployment), "consecutive_failures": .number(Double($0.failures)),
                "circuit": .string($0.secondsUntilAvailable > 0 ? "open" : "closed"),
                "seconds_until_available": .number($0.secondsUntilAvailable),
            ]
        }
        let routes: [JSONValue] = gateway.current.router.routes.filter { $0.origin == .config }.map { route in
            [
                "models": .array(route.patterns.map { .string($0.text) }),
                "deployments": .array(route.deployments.map(Self.describe)),
                "fallbacks": .array(route.fallbacks.map(Self.describe)),
            ]
        }
        let config = gateway.config
        let store: JSONValue =
            gateway.limiter == nil ? "none" : config.rateLimit.redisURL == nil ? "memory" : "redis"
        return [
            "object": "status", "providers": .array(providers), "routes": .array(routes),
            "deployments": .array(deployments),
            "requests_in_flight": .number(Double(gateway.metrics.inFlightCount.load(ordering: .relaxed))),
            "streams_in_flight": .number(Double(gateway.metrics.streamsInFlightCount.load(ordering: .relaxed))),
            "budget_store": store,
            "budget_store_healthy": .bool(!gateway.metrics.budgetStoreFailing.load(ordering: .relaxed)),
            "ledger_queued_rows": .number(Double(gateway.ledger?.pending ?? 0)),
            "ledger_written_rows": .number(Double(gateway.ledger?.writes.rows ?? 0)),
            "ledger_writes": .number(Double(gateway.ledger?.writes.statements ?? 0)),
            "keys": .number(Double(gateway.current.keyring.keys.count)),
        ]
    }

    /// A deployment as `provider` or `provider/model`.
    private static func describe(_ deployment: Deployment) -> JSONValue {
        .string(deployment.provider.rawValue + (deployment.model.map { "/" + $0 } ?? ""))
    }
}
