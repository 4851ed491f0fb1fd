/// An OpenAI Responses API request (`POST /v1/responses`, `/v1/responses/input_tokens`), parsed
/// once and checked, with its translation into the canonical Chat Completions request. Unknown
/// top-level fields are ignored (Codex sends its own); unknown item and part types are 400s, and
/// so are the hosted tools no Chat upstream can run.
public struct ResponsesRequest: Sendable {
    /// The model the client asked for (echoed in every answer).
    public var model: String
    /// Whether the client asked for a stream.
    public var stream: Bool
    /// Whether the answer is to be kept for `previous_response_id` and `GET /v1/responses/{id}`
    /// (OpenAI's default is true).
    public var store: Bool
    /// The response this one continues, if any.
    public var previousResponseID: String?
    /// The whole request as the client sent it (its settings are echoed in the answer).
    public var document: JSONObject
    /// The input items, each with an id (assigned where the client sent none), for `input_items`.
    public var inputItems: [JSONValue] { didSet { translated = nil } }
    /// The Chat messages of the conversation before this request (from the stored response this
    /// one continues); empty for a new one.
    public var history: [JSONValue] = [] { didSet { translated = nil } }
    /// The translation `parse` made of a request that stands alone, so it is not made again.
    private var translated: JSONObject?
    /// Names of the client's custom (freeform) tools: their calls go back as `custom_tool_call`.
    public var customTools: Set<String>

    /// Parses a body.
    public static func parse(_ body: some Collection<UInt8>) throws(GatewayError) -> ResponsesRequest {
        let fields = try RequestFields(body)
        guard let document = fields.document ?? (try? JSONParser.parse(body))?.objectValue else {
            throw .invalidRequest("The request body must be a JSON object.")
        }
        let model = try fields.required("model", \.stringValue, "a string")
        if model.isEmpty { throw .invalidRequest("`model` must be a non-empty string.", param: "model") }
        for name in ["background", "conversation", "prompt"] where (document[name] ?? .null) != .null {
            if name == "background", document[name] == .bool(false) { continue }
            throw GatewayError(
                status: 400, type: "invalid_request_error", message: "`\(name)` is not supported by this gateway.",
                code: "unsupported_parameter", param: name)
        }
        let input: [JSONValue]
        switch document["input"] {
        case .string(let text)?: input = [["type": "message", "role": "user", "content": .string(text)]]
        case .array(let items)?: input = items
        case nil, .null?: input = []
        default: throw .invalidRequest("`input` must be a string or an array of items.", param: "input")
        }
        if let max = try fields.optional("max_output_tokens", \.intValue, "an integer"), max < 0 {
            throw .invalidRequest("`max_output_tokens` must not be negative.", param: "max_output_tokens")
        }
        if let metadata = document["metadata"]?.objectValue, metadata.count > 16 {
            throw .invalidRequest("`metadata` may have at most 16 pairs.", param: "metadata")
        }
        let customTools = Set(
            (document["tools"]?.arrayValue ?? []).compactMap { tool in
                tool["type"] == "custom" ? tool["name"]?.stringValue : nil
            })
        let request = ResponsesRequest(
            model: model, stream: try fields.optional("stream", \.boolValue, "a boolean") ?? false,
            store: try fields.optional("store", \.boolValue, "a boolean") ?? true,
            previousResponseID: try fields.optional("previous_response_id", \.stringValue, "a string"),
            document: document,
            inputItems: input.map { item in
                guard var object = item.objectValue, object["id"] == nil else { return item }
                object["id"] = .string(RandomID.make("msg_", length: 24))
                return .object(object)
            }, customTools: customTools)
        // Translating now finds every 400 before anything is sent (a continued response's calls
        // are checked once it is loaded).
        var translator = ResponsesToChat(customTools: customTools)
        translator.allowsOutsideCalls = request.previousResponseID != nil
        let chat = try translator.chat(document, input: request.inputItems, history: [], stream: request.stream)
        var parsed = request
        if request.previousResponseID == nil { parsed.translated = chat }
        return parsed
    }

    /// The canonical Chat request: the history this request continues, then its instructions and
    /// input, its tools and settings.
    public func chat() throws(GatewayError) -> JSONObject {
        if let translated { return translated }
        return try ResponsesToChat(customTools: customTools).chat(
            document, input: inputItems, history: history, stream: stream)
    }

    /// The Chat messages of this exchange without the instructions, for the next request that
    /// continues it: the history, the input and `output` (the answer's items).
    public func conversation(adding output: [JSONValue]) throws(GatewayError) -> [JSONValue] {
        var translator = ResponsesToChat(customTools: customTools)
        return try translator.messages(history: history, items: inputItems + output)
    }
}
