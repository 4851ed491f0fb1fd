/// The fields of an OpenAI chat completion request that the gateway itself needs: enough to
/// validate, route and choose between streaming and non-streaming. The rest travels untouched.
public struct ChatRequestEnvelope: Sendable, Equatable {
    /// The model name the client asked for.
    public var model: String
    /// The conversation; each element is kept as raw JSON.
    public var messages: [JSONValue]
    /// Whether the client wants an SSE stream.
    public var stream: Bool
    /// `stream_options.include_usage`, when given.
    public var includeUsage: Bool?
    /// Tool definitions, kept raw for token counting.
    public var tools: [JSONValue]?
    /// The most completion tokens the client allows (`max_completion_tokens`, else `max_tokens`):
    /// what admission reserves for the answer.
    public var maxCompletionTokens: Int?
    /// The whole request as parsed at the edge, for the adapters that translate it (nil when it
    /// must be decoded from the bytes again).
    public var document: JSONObject?

    /// Creates an envelope directly (tests and adapters).
    public init(model: String, messages: [JSONValue], stream: Bool = false, includeUsage: Bool? = nil) {
        self.model = model
        self.messages = messages
        self.stream = stream
        self.includeUsage = includeUsage
    }

    /// Parses and validates a request body, turning every problem into a 400 the user can act on.
    public static func parse(_ body: some Collection<UInt8>) throws(GatewayError) -> ChatRequestEnvelope {
        let request = try RequestFields(body)
        var envelope = ChatRequestEnvelope(
            model: try request.required("model", \.stringValue, "a string"),
            messages: try request.required("messages", \.arrayValue, "an array"),
            stream: try request.optional("stream", \.boolValue, "a boolean") ?? false)
        envelope.document = request.document
        if let options = try request.optional("stream_options", \.objectValue, "an object") {
            envelope.includeUsage = try RequestFields(object: options, path: "stream_options")
                .optional("include_usage", \.boolValue, "a boolean")
        }
        envelope.tools = try request.optional("tools", \.arrayValue, "an array")
        for name in ["max_completion_tokens", "max_tokens"] where envelope.maxCompletionTokens == nil {
            let limit = try request.optional(name, \.intValue, "an integer")
            if let limit, limit < 0 {
                throw .invalidRequest("`\(name)` must not be negative.", param: name)
            }
            envelope.maxCompletionTokens = limit
        }
        if envelope.model.isEmpty {
            throw .invalidRequest("`model` must be a non-empty string.", param: "model")
        }
        if envelope.messages.isEmpty {
            throw .invalidRequest("`messages` must contain at least one message.", param: "messages")
        }
        for (index, message) in envelope.messages.enumerated() {
            guard let role = message["role"]?.stringValue else {
                throw .invalidRequest(
                    "`messages[\(index)]` must be an object with a string `role`.",
                    param: "messages[\(index)].role"
                )
            }
            if Role(rawValue: role) == nil {
                throw .invalidRequest(
                    "`messages[\(index)].role` is `\(role)`; expected \(Role.listed).",
                    param: "messages[\(index)].role"
                )
            }
        }
        return envelope
    }
}
