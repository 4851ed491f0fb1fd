/// Errors in the Anthropic Messages API's shape, which its SDKs turn into typed exceptions by
/// status: `{"type":"error","error":{"type","message"},"request_id"}`. The gateway's overload
/// (503) is Anthropic's 529 `overloaded_error`, which Claude Code retries with backoff.
extension GatewayError {
    /// The status an Anthropic client gets.
    public var anthropicStatus: Int { status == 503 ? 529 : status }

    /// Anthropic's error type for this error's status.
    public var anthropicType: String {
        switch anthropicStatus {
        case 401: "authentication_error"
        case 402: "billing_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 504: "timeout_error"
        case 529: "overloaded_error"
        case 500...: "api_error"
        default: "invalid_request_error"
        }
    }

    /// The `error` object: its type and message.
    public var anthropicError: JSONValue {
        ["type": .string(anthropicType), "message": .string(message)]
    }

    /// The whole error body.
    public func anthropicBody(requestID: String) -> [UInt8] {
        JSONWriter.bytes(["type": "error", "error": anthropicError, "request_id": .string(requestID)])
    }
}
