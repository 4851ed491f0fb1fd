/// The chat request read from the tree parsed at the edge by hand (a dozen objects for a short
/// conversation, on every request a translating adapter converts); whatever the readers do not take
/// as `Decodable` would, the decoder path decides (its value, or its 400 naming the field).
extension ChatCompletionRequest: TreeReadable {
    init(tree: JSONValue) throws(TreeMismatch) {
        let object = try tree.object()
        model = try object.required("model", \.stringValue)
        messages = try object.required("messages") { value throws(TreeMismatch) in
            try value.elements(Message.init(tree:))
        }
        tools = try object.present("tools") { value throws(TreeMismatch) in try value.elements(Tool.init(tree:)) }
        toolChoice = try object.present("tool_choice") { value throws(TreeMismatch) in try ToolChoice(tree: value) }
        responseFormat = try object.present("response_format") { value throws(TreeMismatch) in
            try ResponseFormat(tree: value)
        }
        temperature = try object.present("temperature", \.numberValue)
        topP = try object.present("top_p", \.numberValue)
        maxTokens = try object.present("max_tokens") { $0.exactInteger() }
        maxCompletionTokens = try object.present("max_completion_tokens") { $0.exactInteger() }
        stop = try object.present("stop") { value throws(TreeMismatch) in try Stop(tree: value) }
        n = try object.present("n") { $0.exactInteger() }
        seed = try object.present("seed") { $0.exactInteger() }
        presencePenalty = try object.present("presence_penalty", \.numberValue)
        frequencyPenalty = try object.present("frequency_penalty", \.numberValue)
        user = try object.present("user", \.stringValue)
    }
}

extension ChatCompletionRequest.Message {
    init(tree: JSONValue) throws(TreeMismatch) {
        let object = try tree.object()
        role = try object.required("role") { $0.stringValue.flatMap(Role.init(rawValue:)) }
        content = try object.present("content") { value throws(TreeMismatch) in
            try ChatCompletionRequest.Content(tree: value)
        }
        name = try object.present("name", \.stringValue)
        toolCalls = try object.present("tool_calls") { value throws(TreeMismatch) in
            try value.elements(ChatCompletionRequest.ToolCall.init(tree:))
        }
        toolCallID = try object.present("tool_call_id", \.stringValue)
    }
}

extension ChatCompletionRequest.Content {
    /// A string, or an array of parts.
    init(tree: JSONValue) throws(TreeMismatch) {
        self = try tree.stringOr(Self.text) { value throws(TreeMismatch) in
            try value.elements(ChatCompletionRequest.Part.init(tree:)).map(Self.parts)
        }
    }
}

extension ChatCompletionRequest.Part {
    init(tree: JSONValue) throws(TreeMismatch) {
        let object = try tree.object()
        type = try object.required("type", \.stringValue)
        text = try object.present("text", \.stringValue)
        imageURL = try object.present("image_url") { value throws(TreeMismatch) in
            let image = try value.object()
            return ChatCompletionRequest.ImageURL(
                url: try image.required("url", \.stringValue), detail: try image.present("detail", \.stringValue))
        }
    }
}

extension ChatCompletionRequest.ToolCall {
    init(tree: JSONValue) throws(TreeMismatch) {
        let object = try tree.object()
        id = try object.required("id", \.stringValue)
        type = try object.present("type", \.stringValue)
        function = try object.required("function") { value throws(TreeMismatch) in
            let function = try value.object()
            return ChatCompletionRequest.FunctionCall(
                name: try function.required("name", \.stringValue),
                arguments: try function.required("arguments", \.stringValue))
        }
    }
}

extension ChatCompletionRequest.Tool {
    init(tree: JSONValue) throws(TreeMismatch) {
        let object = try tree.object()
        type = try object.required("type", \.stringValue)
        function = try object.required("function") { value throws(TreeMismatch) in
            let function = try value.object()
            return ChatCompletionRequest.FunctionDefinition(
                name: try function.required("name", \.stringValue),
                description: try function.present("description", \.stringValue),
                parameters: try function.present("parameters") { $0 })
        }
    }
}

extension ChatCompletionRequest.ToolChoice {
    /// A mode string, or an object naming a function.
    init(tree: JSONValue) throws(TreeMismatch) {
        self = try tree.stringOr(Self.mode) { $0["function"]?["name"]?.stringValue.map(Self.function) }
    }
}

extension ChatCompletionRequest.ResponseFormat {
    init(tree: JSONValue) throws(TreeMismatch) {
        let object = try tree.object()
        type = try object.required("type", \.stringValue)
        jsonSchema = try object.present("json_schema") { value throws(TreeMismatch) in
            let format = try value.object()
            return ChatCompletionRequest.JSONSchemaFormat(
                name: try format.present("name", \.stringValue), schema: try format.present("schema") { $0 })
        }
    }
}

extension ChatCompletionRequest.Stop {
    /// One string, or an array of strings.
    init(tree: JSONValue) throws(TreeMismatch) {
        let strings = { (value: JSONValue) throws(TreeMismatch) -> [String]? in
            try value.elements { element throws(TreeMismatch) in
                guard let sequence = element.stringValue else { throw TreeMismatch() }
                return sequence
            }
        }
        sequences = try tree.stringOr({ [$0] }, strings)
    }
}
