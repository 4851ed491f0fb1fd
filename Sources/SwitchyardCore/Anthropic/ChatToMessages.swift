import NIOCore

/// Translates canonical Chat answers back into the Anthropic Messages API's shapes: the whole
/// `message` object, stop reasons and usage.
public enum ChatToMessages {
    /// A new message id: `msg_` and 24 base62 characters.
    public static func messageID() -> String { RandomID.make("msg_", length: 24) }

    /// The `message` for a whole `chat.completion` body (as the provider adapters produce it).
    public static func message(
        _ completion: ByteBuffer, request: MessagesRequest
    ) throws(GatewayError) -> (body: ByteBuffer, usage: TokenUsage?) {
        guard let answer = (try? JSONParser.parse(completion.readableBytesView))?.objectValue else {
            throw .badGateway("The provider's answer could not be read as a chat completion.")
        }
        let choice = answer["choices"]?.arrayValue?.first
        let message = choice?["message"]
        var content: [JSONValue] = []
        if let text = message?["content"]?.stringValue, !text.isEmpty {
            content.append(["type": "text", "text": .string(text)])
        }
        for call in message?["tool_calls"]?.arrayValue ?? [] {
            let name = call["function"]?["name"]?.stringValue ?? ""
            let arguments = call["function"]?["arguments"]?.stringValue ?? ""
            content.append([
                "type": "tool_use", "id": .string(ToolIdentity.clientID(call["id"]?.stringValue ?? "")),
                "name": .string(request.clientToolName(name)), "input": input(arguments),
            ])
        }
        let usage = TokenUsage(json: answer["usage"])
        let sawTool = content.contains { $0["type"] == "tool_use" }
        let body: JSONValue = [
            "id": .string(messageID()), "type": "message", "role": "assistant", "model": .string(request.model),
            "content": .array(content),
            "stop_reason": .string(stopReason(choice?["finish_reason"]?.stringValue, sawTool: sawTool)),
            "stop_sequence": .null, "usage": usageObject(usage ?? TokenUsage(promptTokens: 0, completionTokens: 0)),
        ]
        return (ByteBuffer(bytes: JSONWriter.bytes(body)), usage)
    }

    /// The parsed arguments of a tool call; `{}` when empty or not an object.
    static func input(_ arguments: String) -> JSONValue {
        guard let parsed = try? JSONParser.parse(arguments.utf8), parsed.objectValue != nil else { return [:] }
        return parsed
    }

    /// The Anthropic stop reason of a Chat finish reason: a tool call makes it `tool_use` whatever
    /// the provider said; `tool_calls` without one is `end_turn`.
    public static func stopReason(_ finish: String?, sawTool: Bool) -> String {
        if sawTool { return "tool_use" }
        switch finish {
        case "length": return "max_tokens"
        case "content_filter": return "refusal"
        default: return "end_turn"
        }
    }

    /// Anthropic's `usage` object (no cache figures are known through Chat).
    static func usageObject(_ usage: TokenUsage) -> JSONValue {
        [
            "input_tokens": .number(Double(usage.promptTokens)), "cache_creation_input_tokens": .number(0),
            "cache_read_input_tokens": .number(0), "output_tokens": .number(Double(usage.completionTokens)),
        ]
    }
}
