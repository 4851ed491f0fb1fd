/// Translates a Responses request into the canonical Chat Completions request: `instructions` as the
/// system message, input items in order (calls joined into the assistant turn before them, their
/// outputs as tool messages), flat and custom function tools, `tool_choice`, `text.format` and the
/// sampling settings. Hosted tools, file ids and item types no Chat upstream understands are 400s
/// naming the field.
struct ResponsesToChat {
    /// Names of the client's custom (freeform) tools.
    let customTools: Set<String>
    /// Whether a tool output may answer a call this translation does not see (the request
    /// continues a kept response that is not loaded yet).
    var allowsOutsideCalls = false

    /// The Chat request for `document`, whose items are `input`, continuing `history`.
    func chat(
        _ document: JSONObject, input: [JSONValue], history: [JSONValue], stream: Bool
    ) throws(GatewayError) -> JSONObject {
        var messages: [JSONValue] = []
        if let instructions = document["instructions"]?.stringValue, !instructions.isEmpty {
            messages.append(["role": "system", "content": .string(instructions)])
        }
        var translator = self
        messages += try translator.messages(history: history, items: input)
        var chat: JSONObject = ["model": document["model"] ?? .null, "messages": .array(messages)]
        if let max = document["max_output_tokens"]?.intValue { chat["max_completion_tokens"] = .number(Double(max)) }
        for name in ["temperature", "top_p", "user", "parallel_tool_calls", "prompt_cache_key", "safety_identifier"]
        where (document[name] ?? .null) != .null {
            chat[name] = document[name]
        }
        if let effort = document["reasoning"]?["effort"]?.stringValue { chat["reasoning_effort"] = .string(effort) }
        if stream {
            chat["stream"] = .bool(true)
            chat["stream_options"] = ["include_usage": .bool(true)]
        }
        try tools(document, into: &chat)
        switch document["text"]?["format"]?["type"]?.stringValue {
        case "json_object": chat["response_format"] = ["type": "json_object"]
        case "json_schema":
            let format = document["text"]?["format"]?.objectValue ?? [:]
            var schema: JSONObject = ["name": format["name"] ?? "output", "schema": format["schema"] ?? [:]]
            if let strict = format["strict"] { schema["strict"] = strict }
            if let description = format["description"] { schema["description"] = description }
            chat["response_format"] = ["type": "json_schema", "json_schema": .object(schema)]
        default: break
        }
        return chat
    }

    /// `history` followed by the Chat messages of `items`; checks that every tool output answers a
    /// call before it.
    mutating func messages(history: [JSONValue], items: [JSONValue]) throws(GatewayError) -> [JSONValue] {
        var out = history
        var pendingImages: [JSONValue] = []
        for (index, item) in items.enumerated() {
            let path = "input[\(index)]"
            let type = item["type"]?.stringValue ?? (item["role"] != nil ? "message" : "")
            if type != "function_call_output", type != "custom_tool_call_output", !pendingImages.isEmpty {
                out.append(["role": "user", "content": .array(pendingImages)])
                pendingImages = []
            }
            switch type {
            case "message": out.append(try message(item, at: path))
            case "function_call", "custom_tool_call":
                let arguments =
                    type == "custom_tool_call"
                    ? JSONWriter.text(["input": item["input"] ?? ""]) : item["arguments"]?.stringValue ?? "{}"
                let call: JSONValue = [
                    "id": item["call_id"] ?? "", "type": "function",
                    "function": ["name": item["name"] ?? "", "arguments": .string(arguments)],
                ]
                if var last = out.last?.objectValue, last["role"] == "assistant" {
                    last["tool_calls"] = .array((last["tool_calls"]?.arrayValue ?? []) + [call])
                    out[out.count - 1] = .object(last)
                } else {
                    out.append(["role": "assistant", "content": .null, "tool_calls": [call]])
                }
            case "function_call_output", "custom_tool_call_output":
                let callID = item["call_id"]?.stringValue ?? ""
                guard allowsOutsideCalls || Self.isAnswered(callID, in: out) else {
                    throw GatewayError(
                        status: 400, type: "invalid_request_error",
                        message: "No tool call found for function call output with call_id \(callID).",
                        code: "invalid_value", param: "\(path).call_id")
                }
                let (text, images) = try output(item["output"], at: "\(path).output")
                out.append(["role": "tool", "tool_call_id": .string(callID), "content": .string(text)])
                pendingImages += images
            case "reasoning", "web_search_call", "file_search_call", "image_generation_call", "code_interpreter_call",
                "mcp_list_tools", "compaction":
                continue
            default:
                throw GatewayError(
                    status: 400, type: "invalid_request_error",
                    message: "Input items of type `\(type)` are not supported by this route.", code: "invalid_value",
                    param: "\(path).type")
            }
        }
        if !pendingImages.isEmpty { out.append(["role": "user", "content": .array(pendingImages)]) }
        return out
    }

    /// Whether the last assistant message of `messages` called `callID`.
    private static func isAnswered(_ callID: String, in messages: [JSONValue]) -> Bool {
        guard let assistant = messages.last(where: { $0["role"] == "assistant" }) else { return false }
        return (assistant["tool_calls"]?.arrayValue ?? []).contains { $0["id"]?.stringValue == callID }
    }

    /// A `message` item as a Chat message.
    private func message(_ item: JSONValue, at path: String) throws(GatewayError) -> JSONValue {
        let role = item["role"]?.stringValue ?? "user"
        let chatRole: String =
            switch role {
            case "user", "assistant": role
            case "system", "developer": "system"
            default: throw .invalidRequest("Unknown role `\(role)`.", param: "\(path).role")
            }
        if let text = item["content"]?.stringValue { return ["role": .string(chatRole), "content": .string(text)] }
        var parts: [JSONValue] = []
        for (index, part) in (item["content"]?.arrayValue ?? []).enumerated() {
            let partPath = "\(path).content[\(index)]"
            switch part["type"]?.stringValue {
            case "input_text", "output_text": parts.append(["type": "text", "text": part["text"] ?? ""])
            case "refusal": parts.append(["type": "text", "text": part["refusal"] ?? ""])
            case "input_image": parts.append(try Self.image(part, at: partPath))
            default:
                throw GatewayError(
                    status: 400, type: "invalid_request_error",
                    message:
                        "Content parts of type `\(part["type"]?.stringValue ?? "unknown")` are not supported by this route.",
                    code: "invalid_value", param: "\(partPath).type")
            }
        }
        if chatRole != "user" || parts.allSatisfy({ $0["type"] == "text" }) {
            let text = parts.compactMap { $0["text"]?.stringValue }.joined()
            return ["role": .string(chatRole), "content": .string(text)]
        }
        return ["role": "user", "content": .array(parts)]
    }

    /// An `input_image` part as a Chat `image_url` part; a file id has no meaning here.
    private static func image(_ part: JSONValue, at path: String) throws(GatewayError) -> JSONValue {
        guard let url = part["image_url"]?.stringValue else {
            throw GatewayError(
                status: 400, type: "invalid_request_error", message: "Images by `file_id` are not supported.",
                code: "invalid_value", param: "\(path).file_id")
        }
        let detail = part["detail"]?.stringValue == "original" ? "high" : part["detail"]?.stringValue ?? "auto"
        return ["type": "image_url", "image_url": ["url": .string(url), "detail": .string(detail)]]
    }

    /// A tool output's text, and its images for a user message after the tool messages.
    private func output(_ output: JSONValue?, at path: String) throws(GatewayError) -> (String, [JSONValue]) {
        if let text = output?.stringValue { return (text, []) }
        var texts: [String] = []
        var images: [JSONValue] = []
        for (index, part) in (output?.arrayValue ?? []).enumerated() {
            switch part["type"]?.stringValue {
            case "input_text", "output_text": texts.append(part["text"]?.stringValue ?? "")
            case "input_image": images.append(try Self.image(part, at: "\(path)[\(index)]"))
            default:
                throw GatewayError(
                    status: 400, type: "invalid_request_error", message: "Unsupported tool output part.",
                    code: "invalid_value", param: "\(path)[\(index)].type")
            }
        }
        return (texts.joined(), images)
    }

    /// Function tools (flat or nested) and custom tools as Chat functions, and `tool_choice`.
    private func tools(_ document: JSONObject, into chat: inout JSONObject) throws(GatewayError) {
        var functions: [JSONValue] = []
        var allowed: Set<String>?
        if let choice = document["tool_choice"]?.objectValue, choice["type"] == "allowed_tools" {
            allowed = Set((choice["tools"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
        }
        for (index, tool) in (document["tools"]?.arrayValue ?? []).enumerated() {
            let type = tool["type"]?.stringValue ?? "function"
            var function: JSONObject
            switch type {
            case "function":
                function = tool["function"]?.objectValue ?? tool.objectValue ?? [:]
                function["type"] = nil
                if (function["parameters"] ?? .null) == .null {
                    function["parameters"] = ["type": "object", "properties": [:]]
                }
                for ignored in ["defer_loading", "allowed_callers", "output_schema"] { function[ignored] = nil }
            case "custom":
                function = [
                    "name": tool["name"] ?? "",
                    "parameters": [
                        "type": "object", "required": ["input"], "additionalProperties": .bool(false),
                        "properties": ["input": ["type": "string", "description": tool["description"] ?? ""]],
                    ],
                ]
                if let description = tool["description"] { function["description"] = description }
            default:
                throw GatewayError(
                    status: 400, type: "invalid_request_error",
                    message: "The built-in tool `\(type)` cannot run on this route's provider.",
                    code: "unsupported_parameter", param: "tools[\(index)]")
            }
            if let allowed, !allowed.contains(function["name"]?.stringValue ?? "") { continue }
            functions.append(["type": "function", "function": .object(function)])
        }
        if !functions.isEmpty { chat["tools"] = .array(functions) }
        switch document["tool_choice"] {
        case .string(let mode)?: chat["tool_choice"] = .string(mode)
        case .object(let choice)?:
            switch choice["type"]?.stringValue {
            case "function", "custom":
                chat["tool_choice"] = ["type": "function", "function": ["name": choice["name"] ?? ""]]
            case "allowed_tools": chat["tool_choice"] = choice["mode"] ?? "auto"
            default:
                throw GatewayError(
                    status: 400, type: "invalid_request_error",
                    message: "A built-in tool cannot be forced on this route's provider.",
                    code: "unsupported_parameter",
                    param: "tool_choice")
            }
        default: break
        }
    }
}
