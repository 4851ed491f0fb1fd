/// Translates an Anthropic Messages request into the canonical Chat Completions request: system
/// prompt first, content blocks to Chat messages and parts (tool results as `tool` messages right
/// after the turn that called them), tools and `tool_choice`, sampling fields and limits. What only
/// Anthropic can do (documents, server tools, prefill) is a 400 naming the field; thinking blocks,
/// `cache_control` and Anthropic-only options are dropped.
struct MessagesToChat {
    /// Names shortened for the providers, by the shortened name.
    private(set) var shortenedNames: [String: String] = [:]

    /// The Chat request for `document`, whose `messages` are given checked.
    mutating func chat(
        _ document: JSONObject, messages: [JSONValue], stream: Bool
    ) throws(GatewayError) -> JSONObject {
        var chatMessages: [JSONValue] = []
        if let system = document["system"], let text = Self.systemText(system), !text.isEmpty {
            chatMessages.append(["role": "system", "content": .string(text)])
        }
        for (index, message) in messages.enumerated() {
            try append(message, at: index, to: &chatMessages)
        }
        if messages.count > 1, messages.last?["role"]?.stringValue == "assistant" {
            throw .invalidRequest(
                "messages.\(messages.count - 1): assistant prefill is not supported by this route",
                param: "messages.\(messages.count - 1)")
        }
        var chat: JSONObject = ["model": document["model"] ?? .null, "messages": .array(chatMessages)]
        if let maxTokens = document["max_tokens"]?.intValue, maxTokens > 0 {
            chat["max_completion_tokens"] = .number(Double(maxTokens))
        }
        for name in ["temperature", "top_p", "top_k"] where document[name] != nil && document[name] != .null {
            chat[name] = document[name]
        }
        if let stops = document["stop_sequences"]?.arrayValue, !stops.isEmpty {
            chat["stop"] = .array(Array(stops.prefix(4)))
        }
        if let user = document["metadata"]?["user_id"]?.stringValue { chat["user"] = .string(user) }
        if stream {
            chat["stream"] = .bool(true)
            chat["stream_options"] = ["include_usage": .bool(true)]
        }
        try tools(document, into: &chat)
        return chat
    }

    /// `system` as one text: a string, or text blocks joined by blank lines, without Claude Code's
    /// per-request billing header (it would defeat the provider's prefix caching).
    static func systemText(_ system: JSONValue) -> String? {
        if let text = system.stringValue { return text }
        return system.arrayValue?.compactMap { block -> String? in
            guard let text = block["text"]?.stringValue, !text.hasPrefix("x-anthropic-billing-header:") else {
                return nil
            }
            return text
        }.joined(separator: "\n\n")
    }

    private mutating func append(
        _ message: JSONValue, at index: Int, to out: inout [JSONValue]
    ) throws(GatewayError) {
        let role = message["role"]?.stringValue ?? "user"
        let blocks: [JSONValue] =
            message["content"]?.stringValue.map { [["type": "text", "text": .string($0)]] }
            ?? message["content"]?.arrayValue ?? []
        switch role {
        case "assistant":
            var text: [String] = []
            var calls: [JSONValue] = []
            for (position, block) in blocks.enumerated() {
                let path = "messages.\(index).content.\(position)"
                switch block["type"]?.stringValue {
                case "text": if let t = block["text"]?.stringValue, !t.isEmpty { text.append(t) }
                case "tool_use":
                    let name = block["name"]?.stringValue ?? ""
                    calls.append([
                        "id": .string(ToolIdentity.upstreamID(block["id"]?.stringValue ?? "")), "type": "function",
                        "function": [
                            "name": .string(shorten(name)),
                            "arguments": .string(JSONWriter.text(block["input"] ?? [:])),
                        ],
                    ])
                case "thinking", "redacted_thinking", "server_tool_use", "web_search_tool_result",
                    "web_fetch_tool_result", "code_execution_tool_result", "bash_code_execution_tool_result",
                    "text_editor_code_execution_tool_result":
                    continue
                default: throw Self.unsupported(block, at: path)
                }
            }
            var turn: JSONObject = ["role": "assistant"]
            turn["content"] = text.isEmpty ? .null : .string(text.joined())
            if !calls.isEmpty { turn["tool_calls"] = .array(calls) }
            out.append(.object(turn))
        default:
            var parts: [JSONValue] = []
            var trailing: [JSONValue] = []
            for (position, block) in blocks.enumerated() {
                let path = "messages.\(index).content.\(position)"
                switch block["type"]?.stringValue {
                case "tool_result":
                    var (text, images) = try Self.toolResult(block, at: path)
                    if block["is_error"]?.boolValue == true { text = "Error: " + text }
                    out.append([
                        "role": "tool",
                        "tool_call_id": .string(ToolIdentity.upstreamID(block["tool_use_id"]?.stringValue ?? "")),
                        "content": .string(text),
                    ])
                    trailing += images
                case "text":
                    if let t = block["text"]?.stringValue, !t.isEmpty {
                        parts.append(["type": "text", "text": .string(t)])
                    }
                case "image": parts.append(try Self.image(block, at: path))
                default: throw Self.unsupported(block, at: path)
                }
            }
            parts = trailing + parts
            if !parts.isEmpty {
                let chatRole: JSONValue = role == "system" ? "system" : "user"
                if parts.allSatisfy({ $0["type"] == "text" }) {
                    let text = parts.compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
                    out.append(["role": chatRole, "content": .string(text)])
                } else {
                    out.append(["role": chatRole, "content": .array(parts)])
                }
            }
        }
    }

    /// A tool result's text (joined) and its images, for a user message after the tool messages.
    private static func toolResult(
        _ block: JSONValue, at path: String
    ) throws(GatewayError) -> (text: String, images: [JSONValue]) {
        if let text = block["content"]?.stringValue { return (text, []) }
        var texts: [String] = []
        var images: [JSONValue] = []
        for (position, part) in (block["content"]?.arrayValue ?? []).enumerated() {
            switch part["type"]?.stringValue {
            case "text": texts.append(part["text"]?.stringValue ?? "")
            case "image": images.append(try image(part, at: "\(path).content.\(position)"))
            default: throw unsupported(part, at: "\(path).content.\(position)")
            }
        }
        return (texts.joined(separator: "\n"), images)
    }

    /// An image block as a Chat `image_url` part: base64 as a data URL, or the URL.
    private static func image(_ block: JSONValue, at path: String) throws(GatewayError) -> JSONValue {
        let source = block["source"]
        switch source?["type"]?.stringValue {
        case "base64":
            let media = source?["media_type"]?.stringValue ?? "image/png"
            let data = source?["data"]?.stringValue ?? ""
            return ["type": "image_url", "image_url": ["url": .string("data:\(media);base64,\(data)")]]
        case "url":
            return ["type": "image_url", "image_url": ["url": source?["url"] ?? ""]]
        default:
            throw .invalidRequest(
                "\(path).source: this image source is not supported by this route", param: "\(path).source")
        }
    }

    /// Tools as functions (only name, description and schema copied; server tools dropped), and
    /// `tool_choice`.
    private mutating func tools(
        _ document: JSONObject, into chat: inout JSONObject
    ) throws(GatewayError) {
        var functions: [JSONValue] = []
        var serverTools: Set<String> = []
        for tool in document["tools"]?.arrayValue ?? [] {
            let name = tool["name"]?.stringValue ?? ""
            if let type = tool["type"]?.stringValue, type != "custom" {
                serverTools.insert(name)
                continue
            }
            var function: JSONObject = [
                "name": .string(shorten(name)), "parameters": tool["input_schema"] ?? ["type": "object"],
            ]
            if let description = tool["description"] { function["description"] = description }
            functions.append(["type": "function", "function": .object(function)])
        }
        if !functions.isEmpty { chat["tools"] = .array(functions) }
        guard let choice = document["tool_choice"]?.objectValue else { return }
        switch choice["type"]?.stringValue {
        case "auto": chat["tool_choice"] = "auto"
        case "any": chat["tool_choice"] = "required"
        case "none": chat["tool_choice"] = "none"
        case "tool":
            let name = choice["name"]?.stringValue ?? ""
            if serverTools.contains(name) {
                throw .invalidRequest(
                    "tool_choice.name: the server tool `\(name)` runs only on Anthropic", param: "tool_choice.name")
            }
            chat["tool_choice"] = ["type": "function", "function": ["name": .string(shorten(name))]]
        default: break
        }
        if choice["disable_parallel_tool_use"]?.boolValue == true, !functions.isEmpty {
            chat["parallel_tool_calls"] = .bool(false)
        }
    }

    /// The provider's name for a tool, remembering shortened ones.
    private mutating func shorten(_ name: String) -> String {
        let short = ToolIdentity.upstreamName(name)
        if short != name { shortenedNames[short] = name }
        return short
    }

    /// The 400 for a block this route cannot translate.
    private static func unsupported(_ block: JSONValue, at path: String) -> GatewayError {
        let type = block["type"]?.stringValue ?? "unknown"
        return .invalidRequest(
            "\(path).type: `\(type)` blocks are not supported by this route (its provider is not Anthropic)",
            param: "\(path).type")
    }
}
