import Foundation
import NIOCore

/// An assistant tool call in OpenAI's response shape.
public struct OutputToolCall: Encodable, Sendable, Equatable {
    /// Call id, stable across turns.
    public var id: String
    /// Function name.
    public var name: String
    /// JSON-text arguments.
    public var arguments: String

    /// Creates a call.
    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }

    enum CodingKeys: String, CodingKey { case id, type, function }
    enum FunctionKeys: String, CodingKey { case name, arguments }

    /// Encodes `{"id","type":"function","function":{"name","arguments"}}`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode("function", forKey: .type)
        var f = c.nestedContainer(keyedBy: FunctionKeys.self, forKey: .function)
        try f.encode(name, forKey: .name)
        try f.encode(arguments, forKey: .arguments)
    }
}

/// A complete non-streamed answer, built by converting adapters and encoded in OpenAI's shape.
public struct ChatCompletionResult: Sendable {
    /// One choice.
    public struct Choice: Sendable {
        /// Answer text, nil when the turn only calls tools.
        public var content: String?
        /// Tool calls.
        public var toolCalls: [OutputToolCall]
        /// OpenAI finish reason.
        public var finishReason: String

        /// Creates a choice.
        public init(content: String?, toolCalls: [OutputToolCall], finishReason: String) {
            self.content = content
            self.toolCalls = toolCalls
            self.finishReason = finishReason
        }
    }

    /// Response id.
    public var id: String
    /// The model to report.
    public var model: String
    /// Creation time.
    public var created: Int
    /// The choices.
    public var choices: [Choice]
    /// Usage from the provider.
    public var usage: TokenUsage
    /// Reasoning tokens, when the provider reports them.
    public var reasoningTokens: Int?

    /// Creates a result.
    public init(
        id: String, model: String, created: Int, choices: [Choice], usage: TokenUsage, reasoningTokens: Int? = nil
    ) {
        self.id = id
        self.model = model
        self.created = created
        self.choices = choices
        self.usage = usage
        self.reasoningTokens = reasoningTokens
    }

    /// The OpenAI `chat.completion` JSON body.
    public func body() -> ByteBuffer {
        struct Message: Encodable {
            var role = "assistant"
            var content: String?
            var toolCalls: [OutputToolCall]?
            var refusal: String? = nil
            enum CodingKeys: String, CodingKey {
                case role, content, refusal
                case toolCalls = "tool_calls"
            }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(role, forKey: .role)
                try c.encode(content, forKey: .content)
                try c.encodeIfPresent(toolCalls, forKey: .toolCalls)
                try c.encode(refusal, forKey: .refusal)
            }
        }
        struct EncodedChoice: Encodable {
            var index: Int
            var message: Message
            var logprobs: String? = nil
            var finishReason: String
            enum CodingKeys: String, CodingKey {
                case index, message, logprobs
                case finishReason = "finish_reason"
            }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(index, forKey: .index)
                try c.encode(message, forKey: .message)
                try c.encodeNil(forKey: .logprobs)
                try c.encode(finishReason, forKey: .finishReason)
            }
        }
        struct Completion: Encodable {
            var id: String
            var object = "chat.completion"
            var created: Int
            var model: String
            var choices: [EncodedChoice]
            var usage: UsageBody
        }
        let completion = Completion(
            id: id,
            created: created,
            model: model,
            choices: choices.enumerated().map { index, choice in
                EncodedChoice(
                    index: index,
                    message: Message(
                        content: choice.content, toolCalls: choice.toolCalls.isEmpty ? nil : choice.toolCalls),
                    finishReason: choice.finishReason)
            },
            usage: UsageBody(usage, reasoningTokens: reasoningTokens)
        )
        return ByteBuffer(data: (try? JSONEncoder.gateway.encode(completion)) ?? Data())
    }
}

/// OpenAI's `usage` object.
struct UsageBody: Encodable {
    var promptTokens: Int
    var completionTokens: Int
    var totalTokens: Int
    var completionTokensDetails: Details?

    struct Details: Encodable {
        var reasoningTokens: Int
        enum CodingKeys: String, CodingKey { case reasoningTokens = "reasoning_tokens" }
    }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
        case completionTokensDetails = "completion_tokens_details"
    }

    init(_ usage: TokenUsage, reasoningTokens: Int?) {
        promptTokens = usage.promptTokens
        completionTokens = usage.completionTokens
        totalTokens = usage.promptTokens + usage.completionTokens
        completionTokensDetails = reasoningTokens.map { Details(reasoningTokens: $0) }
    }
}

/// Response ids and timestamps for converted answers.
public enum ResponseIdentity {
    /// A new `chatcmpl-…` id.
    public static func newID() -> String {
        RandomID.make("chatcmpl-", length: 24)
    }

    /// Now, in seconds since 1970.
    public static func now() -> Int { Int(Date().timeIntervalSince1970) }
}
