import Foundation

/// The one error family of the gateway: every failure that reaches a client ends as one of these.
///
/// It knows its HTTP status and the OpenAI error `type`/`code`, so the edge can answer in OpenAI's
/// shape without knowing where the error came from. Its fields sit in one shared box: a typed
/// throw of an error one reference wide is returned in a register, where 80 bytes of fields need
/// a slot in the caller, and an async caller keeps every such slot in its frame.
public struct GatewayError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The fields themselves.
    private struct Fields: Sendable, Equatable {
        var status: Int
        var type: String
        var code: String?
        var param: String?
        var message: String
        var headers: [String: String]
    }

    /// This error's fields, in one shared box.
    private var fields: SharedBox<Fields>

    /// HTTP status sent to the client.
    public var status: Int { fields.value.status }
    /// OpenAI error `type`, e.g. `invalid_request_error`.
    public var type: String { fields.value.type }
    /// OpenAI error `code`, e.g. `model_not_found`; nil when OpenAI would send null.
    public var code: String? { fields.value.code }
    /// The request field the error is about, when there is one.
    public var param: String? { fields.value.param }
    /// A message the user can act on. Never contains secrets.
    public var message: String { fields.value.message }
    /// Extra response headers (e.g. `Retry-After`).
    public var headers: [String: String] {
        get { fields.value.headers }
        set { fields.value.headers = newValue }
    }

    /// Creates an error with every field given.
    public init(
        status: Int,
        type: String,
        message: String,
        code: String? = nil,
        param: String? = nil,
        headers: [String: String] = [:]
    ) {
        fields = SharedBox(
            Fields(status: status, type: type, code: code, param: param, message: message, headers: headers))
    }

    /// A short form for logs.
    public var description: String { "\(status) \(type): \(message)" }

    /// The OpenAI-shaped JSON body: `{"error":{"message","type","param","code"}}`.
    public func jsonBody() -> Data {
        // Written by hand to keep OpenAI's key order, which JSONEncoder does not promise.
        func field(_ value: String?) -> String { value.map(JSONString.quoted) ?? "null" }
        let json =
            #"{"error":{"message":"# + JSONString.quoted(message) + #","type":"# + JSONString.quoted(type)
            + #","param":"# + field(param) + #","code":"# + field(code) + "}}"
        return Data(json.utf8)
    }
}

extension GatewayError {
    /// 400: the body is not valid JSON or not the expected shape.
    public static func invalidRequest(_ message: String, param: String? = nil) -> GatewayError {
        GatewayError(status: 400, type: "invalid_request_error", message: message, param: param)
    }

    /// 401: no usable credentials were presented.
    public static func unauthorized(_ message: String) -> GatewayError {
        GatewayError(status: 401, type: "authentication_error", message: message, code: "invalid_api_key")
    }

    /// 404: the path is not one the gateway serves.
    public static func unknownRoute(method: String, path: String) -> GatewayError {
        GatewayError(
            status: 404,
            type: "invalid_request_error",
            message: "Unknown request URL: \(method) \(path). Switchyard serves /v1/chat/completions, "
                + "/v1/embeddings, /v1/models, /health and /ready.",
            code: "unknown_url"
        )
    }

    /// 404: no route or provider serves this model.
    public static func modelNotFound(_ model: String, reason: String) -> GatewayError {
        GatewayError(
            status: 404,
            type: "invalid_request_error",
            message: "The model `\(model)` cannot be served: \(reason)",
            code: "model_not_found",
            param: "model"
        )
    }

    /// 413: the request body exceeds the configured limit.
    public static func bodyTooLarge(limit: Int) -> GatewayError {
        GatewayError(
            status: 413,
            type: "invalid_request_error",
            message: "Request body is larger than the gateway's limit of \(limit) bytes.",
            code: "request_too_large"
        )
    }

    /// 502: the upstream could not be reached or answered something that is not a valid response.
    public static func badGateway(_ message: String) -> GatewayError {
        GatewayError(status: 502, type: "server_error", message: message, code: "bad_gateway")
    }

    /// 504: the upstream did not answer in time.
    public static func gatewayTimeout(_ message: String) -> GatewayError {
        GatewayError(status: 504, type: "server_error", message: message, code: "upstream_timeout")
    }

    /// 503: the gateway cannot take the request now (overloaded, or no deployment in rotation).
    public static func serviceUnavailable(_ message: String, code: String = "service_unavailable") -> GatewayError {
        GatewayError(status: 503, type: "service_unavailable", message: message, code: code)
    }

    /// 501: the route points at a provider kind whose adapter this build does not have.
    public static func providerNotSupported(_ kind: ProviderKind, model: String) -> GatewayError {
        GatewayError(
            status: 501,
            type: "invalid_request_error",
            message: "The model `\(model)` routes to a \(kind.rawValue) provider, which this gateway "
                + "cannot translate to yet.",
            code: "provider_not_supported",
            param: "model"
        )
    }

    /// The OpenAI error `type` that fits an HTTP status, for reshaping upstream errors.
    public static func openAIType(forStatus status: Int) -> String {
        switch status {
        case 401: return "authentication_error"
        case 403: return "permission_error"
        case 404: return "invalid_request_error"
        case 429: return "rate_limit_error"
        case 400..<500: return "invalid_request_error"
        case 503: return "service_unavailable"
        default: return "server_error"
        }
    }
}
