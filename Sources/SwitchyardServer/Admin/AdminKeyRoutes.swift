import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwitchyardCore

/// The key management API: gateway keys made, listed, changed, rotated and revoked at run time,
/// kept in the database so every instance serves them. Keys from the config file are listed too
/// (`source: config`) but change only with the file.
extension AdminRoutes {
    /// Adds `/admin/keys…` to `router`.
    func addKeyRoutes(to router: Router<BasicRequestContext>) {
        router.get("/admin/keys") { request, _ in
            try authorize(request)
            return await answer { () async throws(GatewayError) -> (HTTPResponse.Status, JSONValue) in
                let stored = try await storedKeys()
                let revoked = request.uri.queryParameters.get("include_revoked") == "true"
                let file = gateway.current.keyring.keys.filter { key in !stored.contains { $0.spec.name == key.name } }
                    .map(Self.fileKeyJSON)
                let listed = stored.filter { revoked || $0.revoked == nil }.map(\.json)
                return (.ok, ["object": "list", "data": .array(file + listed)])
            }
        }
        router.post("/admin/keys") { request, _ in
            try authorize(request)
            let body = await Self.body(request)
            return await answer { () async throws(GatewayError) -> (HTTPResponse.Status, JSONValue) in
                try await create(body)
            }
        }
        router.get("/admin/keys/:id") { request, context in
            try authorize(request)
            let id = context.parameters.get("id") ?? ""
            return await answer { () async throws(GatewayError) -> (HTTPResponse.Status, JSONValue) in
                (.ok, try await storedKey(id).json)
            }
        }
        router.get("/admin/keys/:id/usage") { request, context in
            try authorize(request)
            let id = context.parameters.get("id") ?? ""
            return await answer { () async throws(GatewayError) -> (HTTPResponse.Status, JSONValue) in
                (.ok, try await usage(try await storedKey(id), request: request))
            }
        }
        changing(router, .patch, "/admin/keys/:id") { key, body throws(GatewayError) in
            do throws(ConfigError) {
                try key.spec.update(try Self.parse(body))
            } catch {
                throw Self.invalid(error.message)
            }
            return nil
        }
        changing(router, .post, "/admin/keys/:id/revoke") { key, _ throws(GatewayError) in
            key.revoked = Date()
            return nil
        }
        changing(router, .post, "/admin/keys/:id/rotate") { key, _ throws(GatewayError) in
            let secret = StoredKey.newSecret()
            (key.digest, key.hint) = (secret.digest, secret.hint)
            return secret.secret
        }
    }

    /// Adds `method` `path` to `router`: it changes an active stored key with `change` (given the
    /// request's body) and answers the key, with the new secret `change` returns, if any.
    private func changing(
        _ router: Router<BasicRequestContext>, _ method: HTTPRequest.Method, _ path: RouterPath,
        _ change: @escaping @Sendable (inout StoredKey, ByteBuffer) throws(GatewayError) -> String?
    ) {
        router.on(path, method: method) { request, context in
            try authorize(request)
            let (id, body) = (context.parameters.get("id") ?? "", await Self.body(request))
            return await answer { () async throws(GatewayError) -> (HTTPResponse.Status, JSONValue) in
                var key = try await storedKey(id, active: true)
                let secret = try change(&key, body)
                let saved = try await save(key).json
                return (.ok, secret.map { Self.withSecret(saved, $0) } ?? saved)
            }
        }
    }

    /// `POST /admin/keys`: a new key, its secret shown in this answer only.
    private func create(_ body: ByteBuffer) async throws(GatewayError) -> (HTTPResponse.Status, JSONValue) {
        let spec: KeySpec
        do throws(ConfigError) {
            spec = try KeySpec.creating(try Self.parse(body))
        } catch {
            throw Self.invalid(error.message)
        }
        let tables = try database()
        let existing = try await storedKeys()
        if gateway.current.keyring.keys.contains(where: { $0.name == spec.name })
            || existing.contains(where: { $0.spec.name == spec.name && $0.revoked == nil })
        {
            throw GatewayError(
                status: 409, type: "invalid_request_error", message: "A key named `\(spec.name)` exists already.",
                code: "key_exists", param: "name")
        }
        let secret = StoredKey.newSecret()
        let now = Date()
        let key = StoredKey(
            id: RandomID.make("key_", length: 24), spec: spec, digest: secret.digest, hint: secret.hint, created: now,
            updated: now)
        do {
            try await tables.insert(key)
        } catch {
            throw Self.databaseUnavailable(error)
        }
        await directory?.refreshNow()
        gateway.logger.notice("gateway key created", metadata: ["key": "\(spec.name)", "id": "\(key.id)"])
        return (.created, Self.withSecret(key.json, secret.secret))
    }

    /// `GET /admin/keys/{id}/usage`: the key's spend from the ledger over `since`…`until`
    /// (default: this month), in total, by day and by model, beside its budget.
    private func usage(_ key: StoredKey, request: Request) async throws(GatewayError) -> JSONValue {
        let parameters = request.uri.queryParameters
        var byDay: SpendQuery
        do {
            byDay = try SpendQuery(by: "day", since: parameters.get("since"), until: parameters.get("until"))
        } catch {
            throw Self.invalid(error.message)
        }
        byDay.keyName = key.spec.name
        var byModel = byDay
        byModel.grouping = .model
        let days = try await report(byDay).get()
        let models = try await report(byModel).get()
        return [
            "object": "key_usage", "id": .string(key.id), "name": .string(key.spec.name),
            "budget_usd": key.spec.json["budget_usd"] ?? .null,
            "budget_period": key.spec.json["budget_period"] ?? .null,
            "spent_usd": .number(days.reduce(0) { $0 + $1.costUSD }),
            "requests": .number(Double(days.reduce(0) { $0 + $1.requests })),
            "by_day": SpendLine.json(days, query: byDay), "by_model": SpendLine.json(models, query: byModel),
        ]
    }

    /// Writes `key` over its row and makes the change count here at once.
    private func save(_ key: StoredKey) async throws(GatewayError) -> StoredKey {
        var key = key
        key.updated = Date()
        do {
            try await database().update(key)
        } catch let error as GatewayError {
            throw error
        } catch {
            throw Self.databaseUnavailable(error)
        }
        await directory?.refreshNow()
        gateway.logger.notice(
            key.revoked == nil ? "gateway key changed" : "gateway key revoked",
            metadata: ["key": "\(key.spec.name)", "id": "\(key.id)"])
        return key
    }

    /// The stored key with `id` (404 when there is none; 409 for a revoked one when `active`).
    private func storedKey(_ id: String, active: Bool = false) async throws(GatewayError) -> StoredKey {
        let key: StoredKey?
        do {
            key = try await database().key(id: id)
        } catch let error as GatewayError {
            throw error
        } catch {
            throw Self.databaseUnavailable(error)
        }
        guard let key else {
            let file = id.hasPrefix("config:") && gateway.current.keyring.keys.contains { "config:" + $0.name == id }
            throw GatewayError(
                status: file ? 409 : 404, type: "invalid_request_error",
                message: file
                    ? "The key `\(id.dropFirst(7))` is declared in the config file: change it there and reload."
                    : "No key with id `\(id)`.", code: file ? "key_in_config_file" : "key_not_found")
        }
        if active, key.revoked != nil {
            throw GatewayError(
                status: 409, type: "invalid_request_error", message: "The key `\(key.spec.name)` is revoked.",
                code: "key_revoked")
        }
        return key
    }

    /// Every stored key.
    private func storedKeys() async throws(GatewayError) -> [StoredKey] {
        let tables = try database()
        do {
            return try await tables.all()
        } catch {
            throw Self.databaseUnavailable(error)
        }
    }

    /// The key tables, or why there are none.
    private func database() throws(GatewayError) -> KeyTables {
        guard let ledger = gateway.ledger else {
            throw GatewayError(
                status: 404, type: "invalid_request_error",
                message: "This gateway keeps no database (DATABASE_URL=none): keys live in the config file only.")
        }
        guard let database = ledger.database else {
            throw GatewayError(
                status: 503, type: "service_unavailable", message: "The database is not open yet; retry shortly.")
        }
        return KeyTables(database: database)
    }

    /// Runs a key handler, answering its result or its error.
    private func answer(
        _ handler: () async throws(GatewayError) -> (HTTPResponse.Status, JSONValue)
    ) async -> Response {
        do {
            let (status, value) = try await handler()
            return Self.json(status, JSONWriter.bytes(value))
        } catch {
            return Self.error(error)
        }
    }

    /// A request's body (at most 1 MiB).
    static func body(_ request: Request) async -> ByteBuffer {
        (try? await request.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
    }

    /// The body as JSON.
    static func parse(_ body: ByteBuffer) throws(ConfigError) -> JSONValue {
        guard let value = try? JSONParser.parse(body.readableBytesView) else {
            throw ConfigError("the body must be a JSON object")
        }
        return value
    }

    /// A 400 for a bad key setting.
    static func invalid(_ message: String) -> GatewayError {
        GatewayError(status: 400, type: "invalid_request_error", message: message)
    }

    /// A key's JSON with its secret, as the answers that make one show it (once).
    static func withSecret(_ json: JSONValue, _ secret: String) -> JSONValue {
        var object = json.objectValue ?? [:]
        object["key"] = .string(secret)
        return .object(object)
    }

    /// A config file's key as the list shows it.
    static func fileKeyJSON(_ key: GatewayKey) -> JSONValue {
        var object = KeySpec(key).json.objectValue ?? [:]
        object["id"] = .string("config:" + key.name)
        object["object"] = "gateway_key"
        object["source"] = "config"
        return .object(object)
    }
}
