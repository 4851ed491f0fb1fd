import Foundation
import NIOCore
import SwitchyardCore

extension Gateway {
    /// `GET /v1/models`'s body: the models of every configured provider this build can talk to,
    /// asked in parallel; a provider that is down or refuses is left out rather than failing the
    /// list. Models of providers declared in the config file are listed as `provider/model`, the
    /// form that routes to them. Aliases from config routes are listed too.
    ///
    /// The client's own credential is an OpenAI-style key; it is never fanned out to Gemini or
    /// Anthropic, which are listed only when they have a server-side key. `anthropic` answers in the
    /// Anthropic list shape (what Claude Code's model discovery reads).
    func modelListing(client: ClientContext, anthropic: Bool, router: ModelRouter) async -> ByteBuffer {
        let models = await listModels(client: client, router: router)
        guard anthropic else {
            let data = models.map { entry -> JSONValue in
                [
                    "id": .string(entry.id), "object": "model", "created": .number(Double(entry.created)),
                    "owned_by": .string(entry.ownedBy),
                ]
            }
            return ByteBuffer(bytes: JSONWriter.bytes(["object": "list", "data": .array(data)]))
        }
        let data = models.map { entry -> JSONValue in
            let created = Date(timeIntervalSince1970: TimeInterval(entry.created))
            return [
                "type": "model", "id": .string(entry.id), "display_name": .string(entry.id),
                "created_at": .string(created.formatted(.iso8601)),
            ]
        }
        return ByteBuffer(
            bytes: JSONWriter.bytes([
                "data": .array(data), "has_more": .bool(false),
                "first_id": models.first.map { .string($0.id) } ?? .null,
                "last_id": models.last.map { .string($0.id) } ?? .null,
            ]))
    }

    /// Every provider's models, deduplicated and sorted, then the config routes' aliases.
    private func listModels(client: ClientContext, router: ModelRouter) async -> [ModelEntry] {
        let endpoints = router.providers.values.sorted { $0.id.rawValue < $1.id.rawValue }
        let listed = await withTaskGroup(of: [ModelEntry].self) { group in
            for endpoint in endpoints where endpoint.apiKey != nil || [.openai, .ollama].contains(endpoint.kind) {
                guard let adapter = adapters.adapter(for: endpoint.kind) else { continue }
                group.addTask {
                    await self.models(of: endpoint, adapter: adapter, client: client)
                }
            }
            var all: [ModelEntry] = []
            for await entries in group { all += entries }
            return all
        }
        var seen: Set<String> = []
        var data: [ModelEntry] = []
        for entry in listed.sorted(by: { $0.id < $1.id }) where seen.insert(entry.id).inserted {
            data.append(entry)
        }
        for route in router.routes where route.origin == .config {
            for pattern in route.patterns where !pattern.text.contains("*") && seen.insert(pattern.text).inserted {
                data.append(ModelEntry(id: pattern.text, created: 0, ownedBy: "switchyard"))
            }
        }
        return data
    }

    /// The models one provider lists, named as they route (`provider/model` for declared ones);
    /// none when it cannot be asked.
    func models(
        of endpoint: ProviderEndpoint, adapter: any ProviderAdapter, client: ClientContext
    ) async -> [ModelEntry] {
        do {
            let response = try await attempt(
                adapter.modelsRequest(endpoint: endpoint, client: client).readingWholeAnswer(), adapter: adapter,
                provider: endpoint.id)
            let entries = try adapter.modelsResponse(
                try await collect(response, provider: endpoint.id), endpoint: endpoint)
            let builtin = endpoint.id.rawValue == endpoint.kind.rawValue
            return entries.map { entry in
                var entry = entry
                if !builtin { entry.id = "\(endpoint.id)/\(entry.id)" }
                return entry
            }
        } catch {
            logger.debug(
                "model listing skipped a provider", metadata: ["provider": "\(endpoint.id)", "error": "\(error)"])
            return []
        }
    }
}
