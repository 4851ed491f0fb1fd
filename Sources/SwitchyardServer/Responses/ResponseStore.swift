import SwitchyardCore

/// A response kept for `GET /v1/responses/{id}`, `input_items` and `previous_response_id`: the
/// response object, the conversation a continuation replays, the input items, and whose it is.
public struct StoredResponse: Sendable, Equatable {
    /// Who may read it: a digest of the gateway key (or of the client's credential without keys).
    public var owner: String
    /// The `response` object as the client received it.
    public var response: JSONValue
    /// The canonical Chat messages of the exchange so far (without instructions), for a request
    /// that continues it.
    public var conversation: [JSONValue]
    /// The input items, with ids, newest last.
    public var inputItems: [JSONValue]

    /// The stored form.
    var json: JSONValue {
        [
            "owner": .string(owner), "response": response, "conversation": .array(conversation),
            "input_items": .array(inputItems),
        ]
    }

    /// Reads the stored form.
    init?(json: JSONValue) {
        guard let owner = json["owner"]?.stringValue, let response = json["response"] else { return nil }
        self.init(
            owner: owner, response: response, conversation: json["conversation"]?.arrayValue ?? [],
            inputItems: json["input_items"]?.arrayValue ?? [])
    }

    /// A response to keep.
    public init(owner: String, response: JSONValue, conversation: [JSONValue], inputItems: [JSONValue]) {
        self.owner = owner
        self.response = response
        self.conversation = conversation
        self.inputItems = inputItems
    }
}

/// Where kept responses live: in memory (one instance), or in Redis so every instance sees them.
/// Reads are by id; the caller checks the owner.
public protocol ResponseStore: Sendable {
    /// Keeps `response` under `id`.
    func put(_ id: String, _ response: StoredResponse) async
    /// The response kept under `id`, if any.
    func get(_ id: String) async -> StoredResponse?
    /// Forgets `id`; whether it was there.
    func delete(_ id: String) async -> Bool
}
