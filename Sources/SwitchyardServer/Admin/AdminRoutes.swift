import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import SwitchyardCore

/// The admin listener's routes (`/admin/…`), every one behind the admin key. Errors in OpenAI's
/// shape, as on the client listener.
struct AdminRoutes: Sendable {
    /// The gateway administered.
    let gateway: Gateway
    /// SHA-256 of the admin key, compared in constant time.
    let keyDigest: [UInt8]

    /// Routes for `gateway`, guarded by `adminKey`.
    init(gateway: Gateway, adminKey: Secret) {
        self.gateway = gateway
        self.keyDigest = Hashing.sha256(Array(adminKey.value.utf8))
    }

    /// The router.
    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/admin/spend") { request, _ in
            try authorize(request)
            return await spend(request)
        }
        router.get("/admin/status") { request, _ in
            try authorize(request)
            return Self.json(.ok, JSONWriter.bytes(status()))
        }
        router.get("/admin/**") { request, _ in
            try authorize(request)
            return Self.error(GatewayError.unknownRoute(method: "GET", path: request.uri.path))
        }
        return router
    }

    /// `GET /admin/spend?by=key|user|team|model|day&since=YYYY-MM-DD&until=YYYY-MM-DD`.
    private func spend(_ request: Request) async -> Response {
        let parameters = request.uri.queryParameters
        let query: SpendQuery
        do {
            query = try SpendQuery(
                by: parameters.get("by"), since: parameters.get("since"), until: parameters.get("until"))
        } catch {
            return Self.error(GatewayError(status: 400, type: "invalid_request_error", message: error.message))
        }
        guard let ledger = gateway.ledger else {
            return Self.error(
                GatewayError(
                    status: 404, type: "invalid_request_error",
                    message: "This gateway keeps no spend ledger (DATABASE_URL=none)."))
        }
        do {
            let lines = try await ledger.report(query)
            return Self.json(.ok, JSONWriter.bytes(SpendLine.json(lines, query: query)))
        } catch {
            gateway.logger.warning("spend report failed", metadata: ["error": "\(LedgerDatabases.describe(error))"])
            return Self.error(
                GatewayError(
                    status: 503, type: "service_unavailable",
                    message: "The ledger database is unavailable: \(LedgerDatabases.describe(error))"))
        }
    }

    /// `GET /admin/status`: providers, deployments' breakers, requests and streams in flight, the
    /// budgets' store and the ledger's queue.
    private func status() -> JSONValue {
        let config = gateway.config
        let providers: [JSONValue] = config.router.providers.values.sorted { $0.id.rawValue < $1.id.rawValue }.map {
            ["name": .string($0.id.rawValue), "kind": .string($0.kind.rawValue), "base_url": .string("\($0.baseURL)")]
        }
        let deployments: [JSONValue] = gateway.health.statuses().map {
            [
                "deployment": .string($0.deployment), "consecutive_failures": .number(Double($0.failures)),
                "circuit": .string($0.secondsUntilAvailable > 0 ? "open" : "closed"),
                "seconds_until_available": .number($0.secondsUntilAvailable),
            ]
        }
        let store: JSONValue =
            gateway.limiter == nil ? "none" : config.rateLimit.redisURL == nil ? "memory" : "redis"
        return [
            "object": "status", "providers": .array(providers), "deployments": .array(deployments),
            "requests_in_flight": .number(Double(gateway.metrics.inFlightCount.load(ordering: .relaxed))),
            "streams_in_flight": .number(Double(gateway.metrics.streamsInFlightCount.load(ordering: .relaxed))),
            "budget_store": store, "ledger_queued_rows": .number(Double(gateway.ledger?.pending ?? 0)),
        ]
    }

    /// Throws the 401 answer unless the request carries the admin key as its bearer token.
    private func authorize(_ request: Request) throws(AdminRefusal) {
        let presented = ClientContext.bearerToken(in: request.headers[.authorization]) ?? ""
        let digest = Hashing.sha256(Array(presented.utf8))
        var difference: UInt8 = 0
        for (a, b) in zip(digest, keyDigest) { difference |= a ^ b }
        guard difference == 0, !presented.isEmpty else {
            throw AdminRefusal(
                response: Self.error(
                    .unauthorized("Missing or incorrect admin key: send it as `Authorization: Bearer <ADMIN_KEY>`.")))
        }
    }

    /// An error answer in OpenAI's shape.
    static func error(_ error: GatewayError) -> Response {
        json(HTTPResponse.Status(code: error.status), Array(error.jsonBody()))
    }

    /// A JSON answer.
    static func json(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// A refused admin request, answered as it stands.
struct AdminRefusal: HTTPResponseError {
    /// The answer.
    let response: Response

    var status: HTTPResponse.Status { response.status }

    func response(from request: Request, context: some Hummingbird.RequestContext) throws -> Response { response }
}
