import SwitchyardCore

/// Kept responses in Redis, so every instance sharing it can continue and read every response:
/// one string per response (`switchyard:response:<id>`), expiring after the age limit.
struct RedisResponseStore: ResponseStore {
    let client: RedisClient
    /// How long a response is kept, in seconds.
    let maxAgeSeconds: Int

    private static func key(_ id: String) -> String { "switchyard:response:\(id)" }

    func put(_ id: String, _ response: StoredResponse) async {
        _ = try? await client.send(["SET", Self.key(id), JSONWriter.text(response.json), "EX", String(maxAgeSeconds)])
    }

    func get(_ id: String) async -> StoredResponse? {
        guard let text = try? await client.send(["GET", Self.key(id)]).string,
            let json = try? JSONParser.parse(text.utf8)
        else { return nil }
        return StoredResponse(json: json)
    }

    func delete(_ id: String) async -> Bool {
        ((try? await client.send(["DEL", Self.key(id)]).int) ?? 0) > 0
    }
}
