import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import Testing

/// The gateway in-process against strict in-process mocks of each provider's native API.
@Suite("Providers against strict native mocks", .timeLimit(.minutes(1)))
struct ProviderIntegrationTests {
    static let models = ["gemini-2.0-flash", "claude-3-5-haiku", "ollama/llama3.2"]

    static func with(_ body: (TestGateway) async throws -> Void) async throws {
        let native = try await NativeMockUpstream()
        var environment: [String: String] = [:]
        for provider in ["GEMINI", "ANTHROPIC", "OLLAMA"] {
            environment["\(provider)_DOMAIN"] = "127.0.0.1"
            environment["\(provider)_PORT"] = String(native.port)
            environment["\(provider)_TLS"] = "false"
        }
        do {
            try await TestGateway.with(environment: environment, body)
        } catch {
            await native.stop()
            throw error
        }
        await native.stop()
    }

    @Test("A chat converts both ways", arguments: models)
    func chat(model: String) async throws {
        try await Self.with { gw in
            let r = try await gw.send(
                "/v1/chat/completions",
                body:
                    #"{"model":"\#(model)","messages":[{"role":"system","content":"x"},{"role":"user","content":"hi"}]}"#,
                headers: [("authorization", "Bearer k")])
            #expect(r.status == 200, "\(r.body)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any])
            let choice = try #require((json["choices"] as? [[String: Any]])?.first)
            #expect((choice["message"] as? [String: Any])?["content"] as? String == "Hi there")
            #expect(choice["finish_reason"] as? String == "stop")
            #expect(json["model"] as? String == model)
            #expect((json["usage"] as? [String: Any])?["total_tokens"] as? Int == 5)
        }
    }

    @Test("A stream converts to OpenAI chunks ending in [DONE], with usage when asked", arguments: models)
    func stream(model: String) async throws {
        try await Self.with { gw in
            let r = try await gw.send(
                "/v1/chat/completions",
                body:
                    #"{"model":"\#(model)","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#,
                headers: [("authorization", "Bearer k")])
            #expect(r.status == 200)
            #expect(r.headers["content-type"] == ["text/event-stream"])
            let events = r.body.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(events.last == "data: [DONE]")
            let objects = events.dropLast().compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.dropFirst(6).utf8)) as? [String: Any]
            }
            let text = objects.compactMap {
                (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String
            }.joined()
            #expect(text == "Hi there")
            #expect(((objects.last?["usage"] as? [String: Any])?["total_tokens"] as? Int) == 5)
            #expect(Set(objects.compactMap { $0["id"] as? String }).count == 1)
        }
    }

    @Test(
        "Provider errors keep a fitting status in OpenAI's shape",
        arguments: [("gemini-overloaded", 429), ("claude-overloaded", 503), ("ollama/llama-overloaded", 404)])
    func errors(model: String, status: Int) async throws {
        try await Self.with { gw in
            let r = try await gw.send(
                "/v1/chat/completions", body: #"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}]}"#,
                headers: [("authorization", "Bearer k")])
            #expect(r.status == status)
            #expect(try TestGateway.error(in: r.body)["message"] is String)
        }
    }

    @Test(
        "An error in the middle of a stream is sent as a final SSE error event",
        arguments: ["gemini-midstream", "claude-midstream", "ollama/llama-midstream"])
    func midStream(model: String) async throws {
        try await Self.with { gw in
            let r = try await gw.send(
                "/v1/chat/completions",
                body: #"{"model":"\#(model)","stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
                headers: [("authorization", "Bearer k")])
            #expect(r.status == 200)
            let events = r.body.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(events.last?.hasPrefix(#"data: {"error":"#) == true)
            #expect(!r.body.contains("data: [DONE]"))
            #expect(r.body.contains(#""content":"Hi ""#))
        }
    }

    @Test("A request the mock finds invalid would surface as the provider's 400 (the mock is strict)")
    func strictness() async throws {
        try await Self.with { gw in
            // No credentials at all: Gemini's mock demands x-goog-api-key.
            let r = try await gw.send(
                "/v1/chat/completions",
                body: #"{"model":"gemini-2.0-flash","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(r.status == 400)
            #expect((try TestGateway.error(in: r.body)["message"] as? String) == "API key not valid")
        }
    }
}
