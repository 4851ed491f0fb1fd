import Logging
import SwitchyardCore

/// Kept responses in Redis, so every instance sharing it can continue and read every response:
/// one string per response (`switchyard:response:<id>`), expiring after the age limit.
struct RedisResponseStore: ResponseStore {
    let client: RedisClient
    /// How long a response is kept, in seconds.
    let maxAgeSeconds: Int
    /// Where a response that could not be kept or read is reported (its id, never its content).
    let logger: Logger

    private static func key(_ id: String) -> String { "switchyard:response:\(id)" }

    func put(_ id: String, _ response: StoredResponse) async {
        do {
            _ = try await client.send([
                "SET", Self.key(id), JSONWriter.text(response.json), "EX", String(maxAgeSeconds),
            ])
        } catch {
            logger.warning("response not kept: Redis failed", metadata: ["response_id": "\(id)", "error": "\(error)"])
        }
    }

    func get(_ id: String) async -> StoredResponse? {
        let reply: RESPValue
        do {
            reply = try await client.send(["GET", Self.key(id)])
        } catch {
            logger.warning("response not read: Redis failed", metadata: ["response_id": "\(id)", "error": "\(error)"])
            return nil
        }
        guard let text = reply.string, let json = try? JSONParser.parse(text.utf8) else { return nil }
        return StoredResponse(json: json)
    }

    func delete(_ id: String) async -> Bool {
        ((try? await client.send(["DEL", Self.key(id)]).int) ?? 0) > 0
    }
}
