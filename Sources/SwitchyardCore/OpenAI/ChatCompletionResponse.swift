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

    /// The OpenAI `chat.completion` JSON body, written straight into bytes in OpenAI's member order
    /// (every translated answer has one; building a tree to write would cost several times more).
    public func body() -> ByteBuffer {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: #"{"id":"#.utf8)
        JSONWriter.writeString(id, into: &out)
        out.append(contentsOf: #","object":"chat.completion","created":"#.utf8)
        DecimalText.append(Int64(created), to: &out)
        out.append(contentsOf: #","model":"#.utf8)
        JSONWriter.writeString(model, into: &out)
        out.append(contentsOf: #","choices":["#.utf8)
        for (index, choice) in choices.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"index":"#.utf8)
            DecimalText.append(Int64(index), to: &out)
            out.append(contentsOf: #","message":{"role":"assistant","content":"#.utf8)
            if let content = choice.content {
                JSONWriter.writeString(content, into: &out)
            } else {
                out.append(contentsOf: "null".utf8)
            }
            out.append(contentsOf: #","refusal":null"#.utf8)
            if !choice.toolCalls.isEmpty {
                out.append(contentsOf: #","tool_calls":"#.utf8)
                JSONWriter.write(.array(choice.toolCalls.map(\.jsonValue)), into: &out)
            }
            out.append(contentsOf: #"},"logprobs":null,"finish_reason":"#.utf8)
            JSONWriter.writeString(choice.finishReason, into: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: #"],"usage":"#.utf8)
        UsageBody(usage, reasoningTokens: reasoningTokens).write(into: &out)
        out.append(UInt8(ascii: "}"))
        return ByteBuffer(bytes: out)
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

    /// Writes `{"prompt_tokens","completion_tokens","total_tokens"}`, with
    /// `completion_tokens_details` when reasoning tokens are known.
    func write(into out: inout [UInt8]) {
        out.append(contentsOf: #"{"prompt_tokens":"#.utf8)
        DecimalText.append(Int64(promptTokens), to: &out)
        out.append(contentsOf: #","completion_tokens":"#.utf8)
        DecimalText.append(Int64(completionTokens), to: &out)
        out.append(contentsOf: #","total_tokens":"#.utf8)
        DecimalText.append(Int64(promptTokens + completionTokens), to: &out)
        if let reasoningTokens {
            out.append(contentsOf: #","completion_tokens_details":{"reasoning_tokens":"#.utf8)
            DecimalText.append(Int64(reasoningTokens), to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "}"))
    }

    /// The object's JSON text.
    var text: String {
        var out: [UInt8] = []
        write(into: &out)
        return String(decoding: out, as: UTF8.self)
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
