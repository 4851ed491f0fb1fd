import Foundation
import NIOCore

/// An assistant tool call in OpenAI's response shape.
public struct OutputToolCall: Sendable, Equatable {
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

    /// `{"id","type":"function","function":{"name","arguments"}}`.
    public var jsonValue: JSONValue {
        ["id": .string(id), "type": "function", "function": ["name": .string(name), "arguments": .string(arguments)]]
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
        let encodedChoices = choices.enumerated().map { index, choice -> JSONValue in
            var message: JSONObject = [
                "role": "assistant", "content": choice.content.map(JSONValue.string) ?? .null, "refusal": .null,
            ]
            if !choice.toolCalls.isEmpty { message["tool_calls"] = .array(choice.toolCalls.map(\.jsonValue)) }
            return [
                "index": .number(Double(index)), "message": .object(message), "logprobs": .null,
                "finish_reason": .string(choice.finishReason),
            ]
        }
        let completion: JSONValue = [
            "id": .string(id), "object": "chat.completion", "created": .number(Double(created)),
            "model": .string(model), "choices": .array(encodedChoices),
            "usage": UsageBody(usage, reasoningTokens: reasoningTokens).jsonValue,
        ]
        return ByteBuffer(bytes: JSONWriter.bytes(completion))
    }
}

/// OpenAI's `usage` object.
struct UsageBody {
    var promptTokens: Int
    var completionTokens: Int
    var reasoningTokens: Int?

    init(_ usage: TokenUsage, reasoningTokens: Int?) {
        promptTokens = usage.promptTokens
        completionTokens = usage.completionTokens
        self.reasoningTokens = reasoningTokens
    }

    /// `{"prompt_tokens","completion_tokens","total_tokens"}`, with `completion_tokens_details`
    /// when reasoning tokens are known.
    var jsonValue: JSONValue {
        var usage: JSONObject = [
            "prompt_tokens": .number(Double(promptTokens)), "completion_tokens": .number(Double(completionTokens)),
            "total_tokens": .number(Double(promptTokens + completionTokens)),
        ]
        if let reasoningTokens {
            usage["completion_tokens_details"] = ["reasoning_tokens": .number(Double(reasoningTokens))]
        }
        return .object(usage)
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
