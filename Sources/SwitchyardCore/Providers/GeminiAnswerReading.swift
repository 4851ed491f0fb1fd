/// Gemini's answers read from the parser's tree by hand (several objects per answer and per stream
/// event); whatever the readers do not take as `Decodable` would, the tree decoder decides.
extension GeminiAdapter.Answer: TreeReadable {
    init(tree: JSONValue) throws(TreeMismatch) {
        let object = try tree.object()
        candidates = try object.present("candidates") { value throws(TreeMismatch) in
            try value.elements(GeminiAdapter.Candidate.init(tree:))
        }
        usageMetadata = try object.present("usageMetadata", GeminiAdapter.Usage.init(tree:))
        promptFeedback = try object.present("promptFeedback") { value throws(TreeMismatch) in
            Feedback(blockReason: try value.object().present("blockReason", \.stringValue))
        }
        error = try object.present("error") { value throws(TreeMismatch) in
            let error = try value.object()
            return Failure(
                code: try error.present("code") { $0.exactInteger() },
                message: try error.present("message", \.stringValue),
                status: try error.present("status", \.stringValue))
        }
    }
}

extension GeminiAdapter.Candidate {
    init(tree: JSONValue) throws(TreeMismatch) {
        let object = try tree.object()
        content = try object.present("content") { value throws(TreeMismatch) in
            Content(
                parts: try value.object().present("parts") { parts throws(TreeMismatch) in
                    try parts.elements(GeminiAdapter.Part.init(tree:))
                })
        }
        finishReason = try object.present("finishReason", \.stringValue)
    }
}

extension GeminiAdapter.Part {
    init(tree: JSONValue) throws(TreeMismatch) {
        let object = try tree.object()
        text = try object.present("text", \.stringValue)
        thought = try object.present("thought", \.boolValue)
        functionCall = try object.present("functionCall") { value throws(TreeMismatch) in
            let call = try value.object()
            return FunctionCall(name: try call.required("name", \.stringValue), args: try call.present("args") { $0 })
        }
        thoughtSignature = try object.present("thoughtSignature", \.stringValue)
    }
}

extension GeminiAdapter.Usage {
    init(tree: JSONValue) throws(TreeMismatch) {
        let object = try tree.object()
        promptTokenCount = try object.present("promptTokenCount") { $0.exactInteger() }
        candidatesTokenCount = try object.present("candidatesTokenCount") { $0.exactInteger() }
        thoughtsTokenCount = try object.present("thoughtsTokenCount") { $0.exactInteger() }
        cachedContentTokenCount = try object.present("cachedContentTokenCount") { $0.exactInteger() }
    }
}
