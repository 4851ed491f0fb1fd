import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import SwitchyardCore

/// The admin listener's routes: the web console at `/`, and the admin API under `/admin/…`,
/// every API route behind the admin key. Errors in OpenAI's shape, as on the client listener.
struct AdminRoutes: Sendable {
    /// The gateway administered.
    let gateway: Gateway
    /// SHA-256 of the admin key, compared in constant time.
    let keyDigest: [UInt8]
    /// Reloads the configuration file, when the gateway was started from one it can read again.
    let reloader: ConfigReloader?
    /// Reads the stored keys again after the API changed them, so this instance sees the change at once.
    let directory: KeyDirectory?

    /// The router.
    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/") { _, _ in Self.html(ConsolePage.html) }
        router.get("/admin/spend") { request, _ in
            try authorize(request)
            return await spend(request)
        }
        router.get("/admin/status") { request, _ in
            try authorize(request)
            return Self.json(.ok, JSONWriter.bytes(status()))
        }
        router.get("/admin/logs") { request, _ in
            try authorize(request)
            let lines = gateway.recentLines?.lines ?? []
            return Self.json(.ok, JSONWriter.bytes(["object": "list", "data": .array(lines.map(JSONValue.string))]))
        }
        router.post("/admin/reload") { request, _ in
            try authorize(request)
            return reload()
        }
        addKeyRoutes(to: router)
        for method in [HTTPRequest.Method.get, .post, .patch, .delete, .put] {
            router.on("/admin/**", method: method) { request, _ in
                try authorize(request)
                return Self.error(GatewayError.unknownRoute(method: method.rawValue, path: request.uri.path))
            }
        }
        return router
    }

    /// `POST /admin/reload`: the configuration file read again and applied, or refused with why.
    private func reload() -> Response {
        guard let reloader else {
            return Self.error(
                GatewayError(
                    status: 409, type: "invalid_request_error",
                    message: "This gateway cannot reload its configuration (it was not started by `switchyard serve`).")
            )
        }
        switch reloader.reload(trigger: "admin") {
        case .success(let report): return Self.json(.ok, JSONWriter.bytes(report.json))
        case .failure(let refusal):
            return Self.error(
                GatewayError(
                    status: 400, type: "invalid_request_error",
                    message: "The configuration was not reloaded (the running one is kept): \(refusal.reason)",
                    code: "invalid_configuration"))
        }
    }

    /// `GET /admin/spend?by=key|user|team|model|day&since=YYYY-MM-DD&until=YYYY-MM-DD&key=NAME`.
    private func spend(_ request: Request) async -> Response {
        let parameters = request.uri.queryParameters
        var query: SpendQuery
        do {
            query = try SpendQuery(
                by: parameters.get("by"), since: parameters.get("since"), until: parameters.get("until"))
        } catch {
            return Self.error(GatewayError(status: 400, type: "invalid_request_error", message: error.message))
        }
        query.keyName = parameters.get("key")
        switch await report(query) {
        case .success(let lines): return Self.json(.ok, JSONWriter.bytes(SpendLine.json(lines, query: query)))
        case .failure(let error): return Self.error(error)
        }
    }

    /// The ledger's report for `query`, or the answer to give when there is no ledger or it fails.
    func report(_ query: SpendQuery) async -> Result<[SpendLine], GatewayError> {
        guard let ledger = gateway.ledger else {
            return .failure(
                GatewayError(
                    status: 404, type: "invalid_request_error",
                    message: "This gateway keeps no spend ledger (DATABASE_URL=none)."))
        }
        do {
            return .success(try await ledger.report(query))
        } catch {
            gateway.logger.warning("spend report failed", metadata: ["error": "\(LedgerDatabases.describe(error))"])
            return .failure(Self.databaseUnavailable(error))
        }
    }

    /// The 503 for a database that did not answer.
    static func databaseUnavailable(_ error: any Error) -> GatewayError {
        GatewayError(
            status: 503, type: "service_unavailable",
            message: "The database is unavailable: \(LedgerDatabases.describe(error))")
    }

    /// Throws the 401 answer unless the request carries the admin key as its bearer token.
    func authorize(_ request: Request) throws(AdminRefusal) {
        let presented = ClientContext.bearerToken(in: request.headers[.authorization]) ?? ""
        let digest = Hashing.sha256(Array(presented.utf8))
        guard Hashing.equalInConstantTime(digest, keyDigest), !presented.isEmpty else {
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
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// An HTML page, never framed by another site.
    static func html(_ page: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .contentSecurityPolicy:
                    "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
    }
}

/// A refused admin request, answered as it stands.
struct AdminRefusal: HTTPResponseError {
    /// The answer.
    let response: Response

    var status: HTTPResponse.Status { response.status }

    func response(from request: Request, context: some Hummingbird.RequestContext) throws -> Response { response }
}
