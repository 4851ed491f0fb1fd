import AsyncHTTPClient
import Foundation
import NIOCore
import SwitchyardCore
import Testing

/// The authentication matrix against the in-process gateway with gateway keys configured.
@Suite("Gateway keys in front of a provider", .timeLimit(.minutes(1)))
struct AuthenticationTests {
    static func with(_ body: (TestGateway) async throws -> Void) async throws {
        let yaml = """
            gateway_keys:
              - name: team
                sha256: \(Hashing.sha256Hex("sk-gw-team"))
              - name: mini
                sha256: \(Hashing.sha256Hex("sk-gw-mini"))
                models: ["gpt-4o-mini"]
              - name: old
                sha256: \(Hashing.sha256Hex("sk-gw-old"))
                expires: 2020-01-01
            """
        try await TestGateway.with(yaml: yaml, environment: ["OPENAI_API_KEY": "sk-provider"], body)
    }

    @Test(
        "Missing, wrong and expired keys are 401; a model the key may not use is 403; right keys pass in either header",
        arguments: [
            ([], "gpt-4o", 401),
            ([("authorization", "Bearer sk-wrong")], "gpt-4o", 401),
            ([("authorization", "Bearer sk-gw-old")], "gpt-4o", 401),
            ([("authorization", "Bearer sk-gw-mini")], "gpt-4o", 403),
            ([("authorization", "Bearer sk-gw-mini")], "gpt-4o-mini", 200),
            ([("authorization", "Bearer sk-gw-team")], "gpt-4o", 200),
            ([("x-api-key", "sk-gw-team")], "gpt-4o", 200),
        ] as [([(String, String)], String, Int)])
    func matrix(headers: [(String, String)], model: String, status: Int) async throws {
        try await Self.with { gw in
            let r = try await gw.send(
                "/v1/chat/completions", body: TestGateway.chatBody(model: model), headers: headers)
            #expect(r.status == status, "\(r.body)")
            if status != 200 {
                let error = try TestGateway.error(in: r.body)
                #expect(error["type"] as? String == (status == 401 ? "authentication_error" : "permission_error"))
            }
        }
    }

    @Test("The provider never receives the gateway key, only the server-side provider key")
    func keyNeverForwarded() async throws {
        try await Self.with { gw in
            let r = try await gw.send(
                "/v1/chat/completions", body: TestGateway.chatBody(model: "gpt-4o"),
                headers: [("authorization", "Bearer sk-gw-team"), ("x-api-key", "sk-gw-team")])
            #expect(r.status == 200)
            let seen = try #require(await gw.mock.log.requests.last)
            #expect(seen.headers[.authorization] == "Bearer sk-provider")
            #expect(!seen.headers.contains { $0.value.contains("sk-gw-team") })
        }
    }

    @Test("Model listing needs a key; health does not")
    func otherRoutes() async throws {
        try await Self.with { gw in
            let anonymous = try await gw.send("/v1/models", method: .GET)
            let keyed = try await gw.send("/v1/models", method: .GET, headers: [("authorization", "Bearer sk-gw-team")])
            let health = try await gw.send("/health", method: .GET)
            #expect(anonymous.status == 401)
            #expect(keyed.status == 200)
            #expect(health.status == 200)
        }
    }
}
