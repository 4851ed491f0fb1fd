import Foundation
import HTTPTypes
import Hummingbird
import SwitchyardCore

/// Answers every client request, in straight-line code: gives it an id (echoed as
/// `x-request-id`), answers what the connection guard refused, admits it under the concurrency
/// limit, calls its route, and turns every error into OpenAI's JSON error shape with its status.
/// A fixed route table rather than a general router: there are few routes, and each request
/// should cost no more than its own work (measurements in `bench/RESULTS.md`).
struct ClientResponder: Sendable {
    /// The shared request state and the routes' handlers.
    let gateway: Gateway
    /// Overload protection for the API routes.
    let concurrency: ConcurrencyLimit

    /// A responder for `gateway`'s listener, with its concurrency limit.
    init(gateway: Gateway) {
        self.gateway = gateway
        self.concurrency = ConcurrencyLimit(
            limit: gateway.config.reliability.maxConcurrentRequests, metrics: gateway.metrics)
    }

    /// The answer to `request`; never throws: every failure is an OpenAI-shaped error response.
    func respond(to request: Request, context: GatewayRequestContext) async -> Response {
        var context = context
        context.requestID = Self.requestID(from: request.headers[HTTPField.Name.requestID])
        var response: Response
        do {
            response = try await route(request, context: context)
        } catch {
            let gatewayError = Self.gatewayError(from: error)
            if gatewayError.status >= 500 {
                gateway.logger.warning(
                    "request failed",
                    metadata: ["request_id": "\(context.requestID)", "error": "\(gatewayError)"])
            }
            response = Self.response(for: gatewayError)
        }
        response.headers[HTTPField.Name.requestID] = context.requestID
        return response
    }

    /// Refusals first, then the route's handler; 404 for a method and path the gateway does not serve.
    private func route(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        if let refusal = request.headers[ListenerRefusal.marker].flatMap(ListenerRefusal.init(rawValue:)) {
            throw refusal.error(gateway.config.listener)
        }
        let path = request.uri.path
        var context = context
        if ClientRoute.isLimited(path) { context.concurrencySlot = try concurrency.admit() }
        switch ClientRoute(method: request.method, path: path) {
        case .chatCompletions?: return try await gateway.chatCompletions(request, context: context)
        case .embeddings?: return try await gateway.embeddings(request, context: context)
        case .models?: return try await gateway.models(request, context: context)
        case .health?: return Gateway.statusResponse(.ok, #"{"status":"ok"}"#)
        case .ready?:
            return gateway.readiness.isReady
                ? Gateway.statusResponse(.ok, #"{"status":"ready"}"#)
                : Gateway.statusResponse(.serviceUnavailable, #"{"status":"shutting_down"}"#)
        case nil: throw GatewayError.unknownRoute(method: request.method.rawValue, path: path)
        }
    }

    /// Keeps a client-sent id when it is short and printable; otherwise makes one.
    static func requestID(from header: String?) -> String {
        if let header, !header.isEmpty, header.utf8.count <= 128,
            header.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        {
            return header
        }
        return RandomID.make("req_")
    }

    /// The client-facing error for anything a handler threw.
    static func gatewayError(from error: any Error) -> GatewayError {
        switch error {
        case let e as GatewayError: e
        default: GatewayError(status: 500, type: "server_error", message: "Internal gateway error.")
        }
    }

    /// The JSON error response for `error`.
    static func response(for error: GatewayError) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        for (name, value) in error.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        return Response(
            status: HTTPResponse.Status(code: error.status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(data: error.jsonBody()))
        )
    }
}

extension HTTPField.Name {
    /// `x-request-id`.
    static let requestID = HTTPField.Name("x-request-id")!
}
