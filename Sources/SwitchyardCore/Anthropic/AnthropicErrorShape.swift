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
        ["type": .string(anthropicType), "message": .string(anthropicMessage)]
    }

    /// The message, in Anthropic's words where Claude Code reads them: a provider's "context
    /// length exceeded" becomes `prompt is too long: N tokens > M maximum`, which Claude Code
    /// answers by compacting its context instead of failing the turn.
    public var anthropicMessage: String {
        guard status == 400, let (used, limit) = Self.contextOverflow(message, code: code) else { return message }
        return "prompt is too long: \(used) tokens > \(limit) maximum"
    }

    /// The tokens a request used and the model's limit, from the context-overflow messages of
    /// OpenAI (`maximum context length is M tokens … resulted in N tokens`) and Gemini (`input
    /// token count (N) exceeds the maximum number of tokens allowed (M)`).
    static func contextOverflow(_ message: String, code: String?) -> (used: Int, limit: Int)? {
        let lower = message.lowercased()
        if let limit = lower.firstMatch(of: /maximum context length is (\d+) tokens/)?.1,
            let used = lower.firstMatch(of: /(?:resulted in|requested) (\d+) tokens/)?.1,
            let limit = Int(limit), let used = Int(used)
        {
            return (used, limit)
        }
        if let match = lower.firstMatch(
            of: /input token count \((\d+)\) exceeds the maximum number of tokens allowed \((\d+)\)/),
            let used = Int(match.1), let limit = Int(match.2)
        {
            return (used, limit)
        }
        return nil
    }

    /// The whole error body.
    public func anthropicBody(requestID: String) -> [UInt8] {
        JSONWriter.bytes(["type": "error", "error": anthropicError, "request_id": .string(requestID)])
    }
}
