/// The `response` object of the Responses API, with every key the SDK types declare (a missing one
/// is an `AttributeError` in Python and a parse failure in Codex): its id, status, output items and
/// usage, and the request's settings echoed.
public struct ResponseObject: Sendable {
    /// `resp_…`, the same from `response.created` to the terminal event.
    public let id: String
    /// When the response was created, in seconds since 1970.
    public let createdAt: Int
    /// The request it answers.
    public let request: ResponsesRequest

    /// A new response to `request`.
    public init(request: ResponsesRequest) {
        self.id = RandomID.make("resp_", length: 24)
        self.createdAt = ResponseIdentity.now()
        self.request = request
    }

    /// The object with `status`, `output` items and `usage` (null while in progress).
    public func json(
        status: String, output: [JSONValue], usage: JSONValue = .null, incomplete: String? = nil,
        error: JSONValue = .null
    ) -> JSONValue {
        let document = request.document
        func echo(_ name: String, _ fallback: JSONValue) -> JSONValue {
            let value = document[name] ?? .null
            return value == .null ? fallback : value
        }
        var object: JSONObject = [
            "id": .string(id), "object": "response", "created_at": .number(Double(createdAt)),
            "status": .string(status),
            "error": error, "incomplete_details": incomplete.map { ["reason": .string($0)] } ?? .null,
            "instructions": echo("instructions", .null), "max_output_tokens": echo("max_output_tokens", .null),
            "model": .string(request.model), "output": .array(output),
            "parallel_tool_calls": echo("parallel_tool_calls", .bool(true)),
            "previous_response_id": request.previousResponseID.map(JSONValue.string) ?? .null,
            "reasoning": [
                "effort": document["reasoning"]?["effort"] ?? .null,
                "summary": document["reasoning"]?["summary"] ?? .null,
            ],
            "store": .bool(request.store), "temperature": echo("temperature", .number(1)),
            "text": [
                "format": document["text"]?["format"] ?? ["type": "text"],
                "verbosity": document["text"]?["verbosity"] ?? "medium",
            ],
            "tool_choice": echo("tool_choice", "auto"), "tools": echo("tools", []), "top_p": echo("top_p", .number(1)),
            "truncation": "disabled", "usage": usage, "user": echo("user", .null), "metadata": echo("metadata", [:]),
            "service_tier": "default",
        ]
        if status == "completed" { object["completed_at"] = .number(Double(ResponseIdentity.now())) }
        return .object(object)
    }

    /// The Responses `usage` object for a Chat usage object (`usage` of a completion or a chunk).
    public static func usage(_ chat: JSONValue?, fallback: TokenUsage) -> JSONValue {
        let usage = TokenUsage(json: chat) ?? fallback
        return [
            "input_tokens": .number(Double(usage.promptTokens)),
            "input_tokens_details": [
                "cached_tokens": .number(Double(chat?["prompt_tokens_details"]?["cached_tokens"]?.intValue ?? 0)),
                "cache_write_tokens": .number(0),
            ],
            "output_tokens": .number(Double(usage.completionTokens)),
            "output_tokens_details": [
                "reasoning_tokens": .number(
                    Double(chat?["completion_tokens_details"]?["reasoning_tokens"]?.intValue ?? 0))
            ],
            "total_tokens": .number(Double(usage.promptTokens + usage.completionTokens)),
        ]
    }

    /// The status, and the reason it is incomplete, for a Chat finish reason.
    public static func status(_ finish: String?) -> (status: String, incomplete: String?) {
        switch finish {
        case "length": ("incomplete", "max_output_tokens")
        case "content_filter": ("incomplete", "content_filter")
        default: ("completed", nil)
        }
    }

    /// A finished `message` item with `text`.
    static func message(id: String, text: String, status: String) -> JSONValue {
        [
            "type": "message", "id": .string(id), "status": .string(status), "role": "assistant",
            "content": [["type": "output_text", "text": .string(text), "annotations": [], "logprobs": []]],
        ]
    }

    /// A finished call item: `function_call`, or `custom_tool_call` for a custom tool, whose input
    /// is the `input` member of the arguments (the arguments as they are when they do not parse).
    static func call(
        id: String, callID: String, name: String, arguments: String, custom: Bool, status: String
    ) -> JSONValue {
        let arguments = arguments.isEmpty ? "{}" : arguments
        guard custom else {
            return [
                "type": "function_call", "id": .string(id), "call_id": .string(callID), "name": .string(name),
                "arguments": .string(arguments), "status": .string(status),
            ]
        }
        let input = (try? JSONParser.parse(arguments.utf8))?["input"]?.stringValue ?? arguments
        return [
            "type": "custom_tool_call", "id": .string(id), "call_id": .string(callID), "name": .string(name),
            "input": .string(input), "status": .string(status),
        ]
    }
}
