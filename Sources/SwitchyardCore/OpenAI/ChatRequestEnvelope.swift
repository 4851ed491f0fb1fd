import Foundation

/// The fields of an OpenAI chat completion request that the gateway itself needs: enough to
/// validate, route and choose between streaming and non-streaming. The rest travels untouched.
public struct ChatRequestEnvelope: Decodable, Sendable, Equatable {
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
    /// Set by the gateway when it must learn the exact usage (rate limiting): adapters then ask
    /// the upstream for usage even if the client did not, and hide it from such a client.
    public var accountUsage = false

    enum CodingKeys: String, CodingKey {
        case model, messages, stream, tools
        case streamOptions = "stream_options"
    }

    struct StreamOptions: Decodable {
        var includeUsage: Bool?
        enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
    }

    /// Creates an envelope directly (tests and adapters).
    public init(model: String, messages: [JSONValue], stream: Bool = false, includeUsage: Bool? = nil) {
        self.model = model
        self.messages = messages
        self.stream = stream
        self.includeUsage = includeUsage
    }

    /// Decodes the envelope; `stream` may be absent or null.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        messages = try c.decode([JSONValue].self, forKey: .messages)
        stream = try c.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        includeUsage = try c.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)?.includeUsage
        tools = try c.decodeIfPresent([JSONValue].self, forKey: .tools)
    }

    /// Parses and validates a request body, turning every problem into a 400 the user can act on.
    public static func parse(_ body: Data) throws(GatewayError) -> ChatRequestEnvelope {
        let envelope: ChatRequestEnvelope = try RequestDecoding.decode(body)
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
            if !["system", "developer", "user", "assistant", "tool", "function"].contains(role) {
                throw .invalidRequest(
                    "`messages[\(index)].role` is `\(role)`; expected system, developer, user, assistant or tool.",
                    param: "messages[\(index)].role"
                )
            }
        }
        return envelope
    }
}
