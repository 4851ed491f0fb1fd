import Foundation
import HTTPTypes
import Hummingbird
import SwitchyardCore

/// The edge of the gateway: gives every request an id (echoed as `x-request-id`), answers requests
/// the connection guard refused, and turns every error into OpenAI's JSON error shape with its status.
struct EdgeMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    /// The listener limits, for the refusal messages.
    let limits: ListenerSettings

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.requestID = Self.requestID(from: request.headers[HTTPField.Name.requestID])
        var response: Response
        do {
            if let refusal = request.headers[ListenerRefusal.marker].flatMap(ListenerRefusal.init(rawValue:)) {
                throw refusal.error(limits)
            }
            response = try await next(request, context)
        } catch {
            let gatewayError = Self.gatewayError(from: error, request: request)
            if gatewayError.status >= 500 {
                context.logger.warning(
                    "request failed",
                    metadata: ["request_id": "\(context.requestID)", "error": "\(gatewayError)"])
            }
            response = Self.response(for: gatewayError)
        }
        response.headers[HTTPField.Name.requestID] = context.requestID
        return response
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

    static func gatewayError(from error: any Error, request: Request) -> GatewayError {
        switch error {
        case let e as GatewayError:
            return e
        case let e as HTTPError where e.status == .notFound || e.status == .methodNotAllowed:
            return .unknownRoute(method: request.method.rawValue, path: request.uri.path)
        case let e as HTTPError:
            return GatewayError(
                status: e.status.code,
                type: GatewayError.openAIType(forStatus: e.status.code),
                message: e.body ?? e.status.reasonPhrase
            )
        default:
            return GatewayError(status: 500, type: "server_error", message: "Internal gateway error.")
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
