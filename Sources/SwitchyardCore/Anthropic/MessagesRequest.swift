/// An Anthropic Messages API request (`POST /v1/messages`, `/v1/messages/count_tokens`), parsed
/// once and checked, with its translation into the canonical Chat Completions request that the
/// provider adapters take. The translation is made eagerly but its failure is kept, not thrown: a
/// request that only an Anthropic upstream can serve (documents, server tools) still goes through
/// to one unchanged.
public struct MessagesRequest: Sendable {
    /// The model the client asked for (echoed in every answer).
    public var model: String
    /// Whether the client asked for a stream.
    public var stream: Bool
    /// `max_tokens` (required for messages, absent for counting).
    public var maxTokens: Int?
    /// The whole request as the client sent it.
    public var document: JSONObject
    /// The canonical Chat request, or why the request cannot be translated.
    public var chat: Result<JSONObject, GatewayError>
    /// Names shortened for the providers, by the shortened name: the client's name goes back out.
    public var toolNames: [String: String]

    /// Parses a body. `counting` is the `count_tokens` form, which has no `max_tokens`.
    public static func parse(
        _ body: some Collection<UInt8>, counting: Bool = false
    ) throws(GatewayError)
        -> MessagesRequest
    {
        let fields = try RequestFields(body)
        guard let document = fields.document ?? (try? JSONParser.parse(body))?.objectValue else {
            throw .invalidRequest("The request body must be a JSON object.")
        }
        let model = try fields.required("model", \.stringValue, "a string")
        if model.isEmpty { throw .invalidRequest("model: String should have at least 1 character", param: "model") }
        let messages = try fields.required("messages", \.arrayValue, "an array")
        let maxTokens = try fields.optional("max_tokens", \.intValue, "an integer")
        if !counting {
            guard let maxTokens else {
                throw .invalidRequest("max_tokens: Field required", param: "max_tokens")
            }
            if maxTokens < 0 { throw .invalidRequest("max_tokens: must be at least 0", param: "max_tokens") }
        }
        var request = MessagesRequest(
            model: model, stream: try fields.optional("stream", \.boolValue, "a boolean") ?? false,
            maxTokens: counting ? nil : maxTokens, document: document, chat: .success([:]), toolNames: [:])
        for (index, message) in messages.enumerated() {
            guard let role = message["role"]?.stringValue, ["user", "assistant", "system"].contains(role) else {
                throw .invalidRequest(
                    "messages.\(index).role: Input should be 'user' or 'assistant'", param: "messages.\(index).role")
            }
            guard message["content"]?.stringValue != nil || message["content"]?.arrayValue != nil else {
                throw .invalidRequest(
                    "messages.\(index).content: Input should be a valid string or list", param: "messages.\(index)")
            }
        }
        if let thinking = document["thinking"]?.objectValue, thinking["type"]?.stringValue == "enabled" {
            let budget = thinking["budget_tokens"]?.intValue ?? 0
            if budget < 1024 || (maxTokens.map { budget >= $0 } ?? false) {
                throw .invalidRequest(
                    "thinking.budget_tokens: must be at least 1024 and less than max_tokens",
                    param: "thinking.budget_tokens")
            }
        }
        do throws(GatewayError) {
            var translator = MessagesToChat()
            request.chat = .success(try translator.chat(document, messages: messages, stream: request.stream))
            request.toolNames = translator.shortenedNames
        } catch {
            request.chat = .failure(error)
        }
        return request
    }

    /// The client's name of a tool the provider knows as `name`.
    public func clientToolName(_ name: String) -> String { toolNames[name] ?? name }
}

extension MessagesRequest {
    /// How much `count_tokens` over-counts: Claude Code compacts its context from this number,
    /// and a count below the provider's own makes it overflow instead.
    public static let countMargin = 1.1

    /// The prompt's tokens as `count_tokens` answers them: the translated request counted by
    /// `counter` (a quarter of `bodySize` when it cannot be translated or counted), with the
    /// margin; never 0.
    public func inputTokens(counter: ChatTokenCounter?, bodySize: Int) -> Int {
        let counted =
            (try? chat.get()).flatMap { chat in
                counter?.promptTokens(messages: chat["messages"]?.arrayValue ?? [], tools: chat["tools"]?.arrayValue)
            } ?? bodySize / 4
        return max(1, Int((Double(counted) * Self.countMargin).rounded(.up)))
    }
}
