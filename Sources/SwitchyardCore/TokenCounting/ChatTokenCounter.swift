import Foundation
import SwitchyardTokenizer

/// Counts the tokens of chat requests and completions the way OpenAI bills them.
///
/// Text follows OpenAI's published rule exactly: every message costs 3 tokens plus the tokens
/// of each of its string fields (`role`, `content`, `name`, `tool_call_id`, …), a `name` costs
/// 1 more, and every reply is primed with 3. What OpenAI does not publish is estimated, and
/// marked so below: images, assistant tool calls and tool definitions.
public struct ChatTokenCounter: Sendable {
    /// The encoding used.
    public let encoding: Encoding

    /// Tokens per image part. OpenAI charges 85 for `detail: low` and 85 + 170 per 512-pixel
    /// tile otherwise; without decoding the image we assume a 1024×1024 picture (4 tiles).
    public static let imageTokensLow = 85
    /// See `imageTokensLow`; 85 + 4 × 170.
    public static let imageTokensHigh = 765

    /// A counter for `model`'s encoding.
    public init(model: String) throws(TokenizerError) {
        encoding = try Encoding.named(ModelEncoding.encoding(forModel: model))
    }

    /// A counter with an explicit encoding.
    public init(encoding: Encoding) {
        self.encoding = encoding
    }

    /// Prompt tokens of `messages` (raw OpenAI message objects) and optional `tools`.
    public func promptTokens(messages: [JSONValue], tools: [JSONValue]? = nil) -> Int {
        var total = 3
        for message in messages {
            total += 3
            for (key, value) in message.objectValue ?? [:] {
                switch (key, value) {
                case ("tool_calls", .array(let calls)):
                    total += calls.reduce(0) { $0 + toolCallTokens($1) }
                case ("content", .array(let parts)):
                    total += parts.reduce(0) { $0 + partTokens($1) }
                case (_, .string(let s)):
                    total += encoding.count(s)
                    if key == "name" { total += 1 }
                default:
                    break
                }
            }
        }
        if let tools, !tools.isEmpty {
            total += toolDefinitionTokens(tools)
        }
        return total
    }

    /// Tokens of generated text, for streams that report no usage.
    public func completionTokens(text: String) -> Int {
        encoding.count(text)
    }

    func partTokens(_ part: JSONValue) -> Int {
        switch part["type"]?.stringValue {
        case "text": return part["text"]?.stringValue.map(encoding.count) ?? 0
        case "image_url":
            let detail = part["image_url"]?["detail"]?.stringValue
            return detail == "low" ? Self.imageTokensLow : Self.imageTokensHigh
        default: return 0
        }
    }

    /// Estimate: the function name and arguments as text, plus 3 for the call's framing.
    func toolCallTokens(_ call: JSONValue) -> Int {
        let function = call["function"]
        let name = function?["name"]?.stringValue ?? ""
        let arguments = function?["arguments"]?.stringValue ?? ""
        return 3 + encoding.count(name) + encoding.count(arguments)
    }

    /// Estimate: each definition's compact JSON text, plus 12 for the tools preamble.
    func toolDefinitionTokens(_ tools: [JSONValue]) -> Int {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var total = 12
        for tool in tools {
            if let data = try? encoder.encode(tool) {
                total += encoding.count(String(decoding: data, as: UTF8.self))
            }
        }
        return total
    }
}
