import Foundation
import NIOCore

/// Writes OpenAI `chat.completion.chunk` SSE events for a converted stream, keeping what OpenAI
/// clients rely on: one id and `created` for the whole stream, the role on the first chunk, tool
/// calls numbered 0, 1, 2 … in order of appearance with their id and name on the first delta,
/// the finish reason on a last empty delta, an optional usage chunk, then `data: [DONE]`.
public struct ChunkEmitter: Sendable {
    /// Stream id.
    public let id: String
    /// Creation time.
    public let created: Int
    /// Model name reported.
    public let model: String
    /// Whether the client asked for the final usage chunk.
    public let includeUsage: Bool

    private var sentRole = false
    private var toolIndices: [String: Int] = [:]
    /// Tool calls started so far.
    public private(set) var toolCallCount = 0
    /// Whether the finish chunk was written.
    public private(set) var finished = false
    /// The text streamed so far.
    public private(set) var text = ""
    /// The usage written with the end of the stream.
    public private(set) var usage: TokenUsage?

    /// Starts a stream.
    public init(
        model: String, includeUsage: Bool, id: String = ResponseIdentity.newID(), created: Int = ResponseIdentity.now()
    ) {
        self.id = id
        self.created = created
        self.model = model
        self.includeUsage = includeUsage
    }

    /// A text delta (an empty string writes nothing unless the role is still owed).
    public mutating func text(_ text: String, into out: inout ByteBuffer) {
        guard !text.isEmpty || !sentRole else { return }
        self.text += text
        write(delta: ["content": .string(text)], finishReason: nil, into: &out)
    }

    /// The first delta of a tool call; `key` identifies the call in the provider's stream.
    public mutating func startToolCall(
        key: String, id: String, name: String, arguments: String, into out: inout ByteBuffer
    ) {
        let index = toolCallCount
        toolIndices[key] = index
        toolCallCount += 1
        let call: JSONValue = [
            "index": .number(Double(index)), "id": .string(id), "type": "function",
            "function": ["name": .string(name), "arguments": .string(arguments)],
        ]
        write(delta: ["tool_calls": [call]], finishReason: nil, into: &out)
    }

    /// An argument fragment for the tool call started under `key`.
    public mutating func toolArguments(key: String, fragment: String, into out: inout ByteBuffer) {
        guard let index = toolIndices[key], !fragment.isEmpty else { return }
        let call: JSONValue = ["index": .number(Double(index)), "function": ["arguments": .string(fragment)]]
        write(delta: ["tool_calls": [call]], finishReason: nil, into: &out)
    }

    /// The last choice chunk: an empty delta and the finish reason.
    public mutating func finish(_ reason: String, into out: inout ByteBuffer) {
        guard !finished else { return }
        write(delta: [:], finishReason: reason, into: &out)
        finished = true
    }

    /// The usage chunk (when asked for) and `data: [DONE]`.
    public mutating func end(usage: TokenUsage?, reasoningTokens: Int? = nil, into out: inout ByteBuffer) {
        self.usage = usage
        if includeUsage {
            let body = UsageBody(
                usage ?? TokenUsage(promptTokens: 0, completionTokens: 0), reasoningTokens: reasoningTokens)
            let usageJSON = body.text
            out.writeString(
                #"data: {"id":"\#(id)","object":"chat.completion.chunk","created":\#(created),"model":"#
                    + JSONString.quoted(model) + #","choices":[],"usage":"# + usageJSON + "}\n\n")
        }
        out.writeString("data: [DONE]\n\n")
    }

    private mutating func write(delta: JSONObject, finishReason: String?, into out: inout ByteBuffer) {
        var delta = delta
        if !sentRole {
            delta["role"] = "assistant"
            if delta["content"] == nil, delta["tool_calls"] == nil { delta["content"] = "" }
            sentRole = true
        }
        let deltaJSON = JSONWriter.text(.object(delta))
        let finish = finishReason.map(JSONString.quoted) ?? "null"
        out.writeString(
            #"data: {"id":"\#(id)","object":"chat.completion.chunk","created":\#(created),"model":"#
                + JSONString.quoted(model) + #","choices":[{"index":0,"delta":"# + deltaJSON
                + #","logprobs":null,"finish_reason":"# + finish + "}]"
                + (includeUsage ? #","usage":null"# : "") + "}\n\n")
    }
}
