import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchyardCore
import Synchronization
import Testing

/// What a scripted upstream does with one request.
enum UpstreamBehaviour: Sendable {
    /// Sends these bytes and keeps the connection for the next request.
    case answer(String)
    /// Sends these bytes and closes the connection.
    case answerThenClose(String)
    /// Sends these bytes, then stays silent while the connection lasts.
    case answerThenHang(String)
}

extension ScriptedServer {
    /// A server answering the `n`th request (0-based, over all connections) as `behaviour(n)` says.
    static func upstream(
        tls: Bool = false, _ behaviour: @escaping @Sendable (Int) -> UpstreamBehaviour
    ) async throws
        -> ScriptedServer
    {
        let requests = Atomic<Int>(0)
        return try await ScriptedServer { _, connection in
            try await connection.executeThenClose { inbound, outbound in
                var iterator = inbound.makeAsyncIterator()
                while try await readRequest(&iterator) != nil {
                    switch behaviour(requests.add(1, ordering: .relaxed).oldValue) {
                    case .answer(let text): try await outbound.write(ByteBuffer(string: text))
                    case .answerThenClose(let text):
                        try await outbound.write(ByteBuffer(string: text))
                        return
                    case .answerThenHang(let text):
                        try await outbound.write(ByteBuffer(string: text))
                        while try await iterator.next() != nil {}
                        return
                    }
                }
            }
        }
    }
}

/// The fault-injection suite: a scripted upstream misbehaves in one way per test, and the client
/// must see the documented status or stream ending, quickly, with nothing left in flight.
@Suite("Fault injection")
struct FaultInjectionTests {
    static let chat = "/v1/chat/completions"

    static func http(_ status: Int, _ body: String, headers: String = "content-type: application/json\r\n") -> String {
        "HTTP/1.1 \(status) X\r\n\(headers)content-length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    static let okBody =
        #"{"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":8,"completion_tokens":1,"total_tokens":9}}"#

    static func chunk(_ text: String) -> String {
        #"data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"\#(text)"},"finish_reason":null}]}"#
            + "\n\n"
    }

    static let sseHead = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n"

    /// Runs `body` against a gateway whose `openai` provider is `server`, plus `environment`.
    static func with(
        _ server: ScriptedServer, environment: [String: String] = [:], _ body: (TestGateway) async throws -> Void
    ) async throws {
        try await TestGateway.with(
            environment: ["OPENAI_PORT": String(server.port), "UPSTREAM_RETRY_BUDGET_SECONDS": "5"].merging(
                environment
            ) { $1 }
        ) { gw in
            try await body(gw)
            let metrics = try await gw.scrape()
            #expect(metrics.value("switchyard_requests_in_flight") == 0, "a request was left in flight")
            #expect(metrics.value("switchyard_streams_in_flight") == 0, "a stream was left in flight")
        }
        await server.stop()
    }

    /// Expects an OpenAI-shaped error with `status` and `code`, within `seconds`.
    static func expectError(
        _ gw: TestGateway, _ body: String, status: Int, code: String, within seconds: Double = 5
    ) async throws {
        let start = ContinuousClock.now
        let r = try await gw.send(chat, body: body)
        #expect(r.status == status, "\(r.body)")
        #expect(try TestGateway.error(in: r.body)["code"] as? String == code)
        #expect(ContinuousClock.now - start < .seconds(seconds))
    }

    @Test("Refused connections: 502 after the retries, in well under the budget")
    func refused() async throws {
        let closed = try RefusingPort()
        try await TestGateway.with(environment: [
            "OPENAI_PORT": String(closed.port), "UPSTREAM_RETRY_BUDGET_SECONDS": "5",
        ]) {
            gw in
            try await Self.expectError(gw, TestGateway.chatBody(model: "gpt-4o"), status: 502, code: "bad_gateway")
            let metrics = try await gw.scrape()
            #expect(metrics.value("switchyard_upstream_errors_total", ["provider": "openai", "kind": "connect"]) == 3)
            #expect(metrics.value("switchyard_upstream_retries_total", ["provider": "openai"]) == 2)
        }
        withExtendedLifetime(closed) {}
    }

    @Test("A reset mid-body is a 502; a garbage or truncated JSON answer is a 502")
    func brokenAnswers() async throws {
        let server = try await ScriptedServer.upstream { n in
            switch n {
            case 0: .answerThenClose("HTTP/1.1 200 OK\r\ncontent-length: 500\r\n\r\n{\"id\":\"c1\",")
            case 1: .answer(Self.http(200, "<html>not json</html>"))
            default: .answer(Self.http(200, String(Self.okBody.prefix(60))))
            }
        }
        try await Self.with(server) { gw in
            for _ in 0..<3 {
                try await Self.expectError(gw, TestGateway.chatBody(model: "gpt-4o"), status: 502, code: "bad_gateway")
            }
        }
    }

    @Test("An upstream that hangs before its headers is a 504 at the first-byte timeout")
    func hangsBeforeHeaders() async throws {
        let server = try await ScriptedServer.upstream { _ in .answerThenHang("") }
        try await Self.with(server, environment: ["UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS": "0.5"]) { gw in
            try await Self.expectError(
                gw, TestGateway.chatBody(model: "gpt-4o"), status: 504, code: "upstream_timeout", within: 3)
        }
    }

    @Test("A stream that hangs midway ends with an SSE error event at the idle timeout; a cut stream too")
    func streamFaults() async throws {
        let server = try await ScriptedServer.upstream { n in
            n == 0
                ? .answerThenHang(Self.sseHead + Self.chunk("one") + Self.chunk("two"))
                : .answerThenClose(Self.sseHead + Self.chunk("one"))
        }
        try await Self.with(server, environment: ["UPSTREAM_IDLE_TIMEOUT_SECONDS": "0.5"]) { gw in
            for expected in ["no data for 0.5s", "ended before its final [DONE]"] {
                let start = ContinuousClock.now
                let r = try await gw.send(Self.chat, body: TestGateway.chatBody(model: "gpt-4o", stream: true))
                #expect(r.status == 200)
                #expect(r.body.contains("\"content\":\"one\""))
                let last = try #require(r.body.split(separator: "\n\n").last)
                #expect(last.hasPrefix("data: {\"error\""), "\(r.body)")
                #expect(last.contains(expected), "\(last)")
                #expect(!r.body.contains("data: [DONE]"))
                #expect(ContinuousClock.now - start < .seconds(3))
            }
        }
    }

    @Test("500, 429 and 503 answers are retried (Retry-After honoured) until the upstream recovers")
    func retriesUntilRecovery() async throws {
        let server = try await ScriptedServer.upstream { n in
            switch n {
            case 0: .answer(Self.http(500, #"{"error":{"message":"boom","type":"server_error"}}"#))
            case 1:
                .answer(
                    Self.http(
                        429, #"{"error":{"message":"slow down","type":"rate_limit_error"}}"#,
                        headers: "content-type: application/json\r\nretry-after: 0.3\r\n"))
            case 2: .answer(Self.http(503, #"{"error":{"message":"busy","type":"server_error"}}"#))
            default: .answer(Self.http(200, Self.okBody))
            }
        }
        try await Self.with(server, environment: ["UPSTREAM_MAX_RETRIES": "3"]) { gw in
            let start = ContinuousClock.now
            let r = try await gw.send(Self.chat, body: TestGateway.chatBody(model: "gpt-4o"))
            #expect(r.status == 200)
            #expect(r.body.contains("\"content\":\"hi\""))
            #expect(ContinuousClock.now - start >= .milliseconds(300), "Retry-After: 0.3 was not honoured")
            let metrics = try await gw.scrape()
            #expect(metrics.value("switchyard_upstream_retries_total", ["provider": "openai"]) == 3)
        }
    }

    @Test("A 400 from the upstream is final: not retried")
    func clientErrorsAreFinal() async throws {
        let server = try await ScriptedServer.upstream { _ in
            .answer(Self.http(400, #"{"error":{"message":"bad","type":"invalid_request_error","code":"x"}}"#))
        }
        try await Self.with(server) { gw in
            let r = try await gw.send(Self.chat, body: TestGateway.chatBody(model: "gpt-4o"))
            #expect(r.status == 400)
            #expect(server.connections == 1)
            let metrics = try await gw.scrape()
            #expect(metrics.value("switchyard_upstream_retries_total") == 0)
        }
    }

    @Test("Weighted deployments share traffic; a failing one falls back, is taken out, and is tried after its cooldown")
    func deploymentsAndBreaker() async throws {
        let broken = try await ScriptedServer.upstream { _ in
            .answer(Self.http(500, #"{"error":{"message":"down","type":"server_error"}}"#))
        }
        let healthy = try await ScriptedServer.upstream { _ in .answer(Self.http(200, Self.okBody)) }
        let yaml = """
            providers:
              - {name: east, kind: openai, base_url: "http://127.0.0.1:\(broken.port)/v1"}
              - {name: west, kind: openai, base_url: "http://127.0.0.1:\(healthy.port)/v1"}
            routes:
              - match: "gpt-4o"
                deployments: [{provider: east, weight: 1000000}]
                fallbacks: [{provider: west, model: gpt-4o-mini}]
            """
        let environment = [
            "UPSTREAM_MAX_RETRIES": "0", "CIRCUIT_BREAKER_FAILURES": "2", "CIRCUIT_BREAKER_COOLDOWN_SECONDS": "1",
        ]
        try await TestGateway.with(yaml: yaml, environment: environment) { gw in
            for _ in 0..<4 {
                let r = try await gw.send(Self.chat, body: TestGateway.chatBody(model: "gpt-4o"))
                #expect(r.status == 200)
            }
            // Two failures opened east's breaker: the last two requests went straight to west.
            var metrics = try await gw.scrape()
            #expect(metrics.value("switchyard_upstream_errors_total", ["provider": "east", "kind": "status"]) == 2)
            #expect(metrics.value("switchyard_upstream_fallbacks_total", ["provider": "west"]) == 2)
            try await Task.sleep(for: .milliseconds(1200))
            #expect(try await gw.send(Self.chat, body: TestGateway.chatBody(model: "gpt-4o")).status == 200)
            metrics = try await gw.scrape()
            #expect(metrics.value("switchyard_upstream_errors_total", ["provider": "east", "kind": "status"]) == 3)
        }
        await broken.stop()
        await healthy.stop()
    }

    /// An upstream that reads the request, never answers, and notes in `record` when the gateway
    /// closes the connection.
    static func silentUpstream(_ record: SilentUpstreamRecord) async throws -> ScriptedServer {
        try await ScriptedServer { _, connection in
            try await connection.executeThenClose { inbound, _ in
                var iterator = inbound.makeAsyncIterator()
                guard try await ScriptedServer.readRequest(&iterator) != nil else { return }
                record.received.add(1, ordering: .relaxed)
                do { while try await iterator.next() != nil {} } catch {}
                record.closedAt.withLock { $0 = .now }
            }
        }
    }

    @Test("A client that hangs up on a non-streamed request releases the upstream within a second")
    func clientLeavesNonStreamed() async throws {
        let record = SilentUpstreamRecord()
        let server = try await Self.silentUpstream(record)
        try await Self.with(server) { gw in
            let client = Task { try await gw.send(Self.chat, body: TestGateway.chatBody(model: "gpt-4o")) }
            let start = ContinuousClock.now
            while record.received.load(ordering: .relaxed) == 0, ContinuousClock.now - start < .seconds(5) {
                try await Task.sleep(for: .milliseconds(20))
            }
            try #require(record.received.load(ordering: .relaxed) == 1, "the request never reached the upstream")
            let left = ContinuousClock.now
            client.cancel()
            while record.closedAt.withLock({ $0 }) == nil, ContinuousClock.now - left < .seconds(5) {
                try await Task.sleep(for: .milliseconds(20))
            }
            let closed = try #require(record.closedAt.withLock { $0 }, "the upstream request was never released")
            #expect(closed - left < .seconds(1))
            let metrics = try await gw.scrape()
            #expect(metrics.value("switchyard_requests_total", ["route": "chat", "status": "499"]) == 1)
            #expect(
                metrics.value("switchyard_upstream_errors_total", ["provider": "openai", "kind": "cancelled"]) == 0)
        }
    }

    @Test("A client that hangs up after the stream's [DONE], while the upstream has not ended, had its answer (200)")
    func clientLeavesAfterLastEvent() async throws {
        let server = try await ScriptedServer.upstream { _ in
            .answerThenHang(Self.sseHead + Self.chunk("hi") + "data: [DONE]\n\n")
        }
        try await Self.with(server) { gw in
            let body = TestGateway.chatBody(model: "gpt-4o", stream: true)
            let request =
                "POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n"
                + "content-length: \(body.utf8.count)\r\n\r\n" + body
            let answer = try await RawConnection.with(port: gw.ports.proxy) { inbound, outbound in
                try await outbound.write(ByteBuffer(string: request))
                var answer = ""
                for try await chunk in inbound {
                    answer += String(buffer: chunk)
                    if answer.contains("data: [DONE]") { break }
                }
                return answer
            }
            #expect(answer.contains("data: [DONE]"))
            let left = ContinuousClock.now
            var metrics = try await gw.scrape()
            while metrics.value("switchyard_requests_in_flight") > 0, ContinuousClock.now - left < .seconds(5) {
                try await Task.sleep(for: .milliseconds(20))
                metrics = try await gw.scrape()
            }
            #expect(metrics.value("switchyard_requests_total", ["route": "chat", "status": "200"]) == 1)
            #expect(metrics.value("switchyard_requests_total", ["route": "chat", "status": "499"]) == 0)
        }
    }

    @Test("A client that stops sending (half-closes) while the upstream thinks releases it within a second")
    func clientHalfCloses() async throws {
        let record = SilentUpstreamRecord()
        let server = try await Self.silentUpstream(record)
        try await Self.with(server) { gw in
            let body = TestGateway.chatBody(model: "gpt-4o")
            let request =
                "POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n"
                + "content-length: \(body.utf8.count)\r\n\r\n" + body
            let left = try await RawConnection.with(port: gw.ports.proxy) { _, outbound in
                try await outbound.write(ByteBuffer(string: request))
                let start = ContinuousClock.now
                while record.received.load(ordering: .relaxed) == 0, ContinuousClock.now - start < .seconds(5) {
                    try await Task.sleep(for: .milliseconds(20))
                }
                try #require(record.received.load(ordering: .relaxed) == 1, "the request never reached the upstream")
                outbound.finish()
                // The connection stays open (half-closed) until the upstream is released.
                let left = ContinuousClock.now
                while record.closedAt.withLock({ $0 }) == nil, ContinuousClock.now - left < .seconds(5) {
                    try await Task.sleep(for: .milliseconds(20))
                }
                return left
            }
            let closed = try #require(record.closedAt.withLock { $0 }, "the upstream request was never released")
            #expect(closed - left < .seconds(1))
            let metrics = try await gw.scrape()
            #expect(metrics.value("switchyard_requests_total", ["route": "chat", "status": "499"]) == 1)
        }
    }

    @Test("Over the concurrency limit, requests get 503 at once instead of waiting")
    func overload() async throws {
        let server = try await ScriptedServer.upstream { _ in .answerThenHang("") }
        let environment = ["MAX_CONCURRENT_REQUESTS": "2", "UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS": "1.5"]
        try await Self.with(server, environment: environment) { gw in
            // A refused request must be answered before any slot frees, which happens only when the
            // first two time out: the order of the answers shows it, whatever the machine's load.
            let answers = try await withThrowingTaskGroup(of: (status: Int, at: ContinuousClock.Instant).self) {
                group in
                for index in 0..<5 {
                    group.addTask {
                        if index >= 2 { try await Task.sleep(for: .milliseconds(300)) }
                        let r = try await gw.send(Self.chat, body: TestGateway.chatBody(model: "gpt-4o"))
                        if r.status == 503 {
                            #expect(try TestGateway.error(in: r.body)["code"] as? String == "overloaded")
                            #expect(r.headers["retry-after"] == ["1"])
                        }
                        return (r.status, ContinuousClock.now)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let statuses = answers.map(\.status).sorted()
            let lastRefusal = answers.filter { $0.status == 503 }.map(\.at).max()
            let firstTimeout = answers.filter { $0.status == 504 }.map(\.at).min()
            if let lastRefusal, let firstTimeout { #expect(lastRefusal < firstTimeout) }
            #expect(statuses == [503, 503, 503, 504, 504])
            let metrics = try await gw.scrape()
            #expect(metrics.value("switchyard_overload_rejections_total") == 3)
        }
    }

    @Test("A stream holds its concurrency slot until its last byte; a fixed answer frees its slot")
    func concurrencySlots() async throws {
        let server = try await ScriptedServer.upstream { n in
            n == 0 ? .answerThenHang(Self.sseHead + Self.chunk("one")) : .answer(Self.http(200, Self.okBody))
        }
        let environment = ["MAX_CONCURRENT_REQUESTS": "1", "UPSTREAM_IDLE_TIMEOUT_SECONDS": "1.5"]
        try await Self.with(server, environment: environment) { gw in
            // At its head the stream has its slot, however long the head took to come.
            let stream = try await gw.startStream(model: "gpt-4o")
            let during = try await gw.send(Self.chat, body: TestGateway.chatBody(model: "gpt-4o"))
            #expect(during.status == 503, "the streaming request did not hold its slot")
            #expect(try TestGateway.error(in: during.body)["code"] as? String == "overloaded")
            #expect(stream.status == .ok)
            let streamed = String(buffer: try await stream.body.collect(upTo: 1 << 20))
            #expect(streamed.contains("\"content\":\"one\""))
            // One slot: the second answer is refused if the first one's slot was not freed.
            for _ in 0..<2 {
                let after = try await gw.send(Self.chat, body: TestGateway.chatBody(model: "gpt-4o"))
                #expect(after.status == 200, "\(after.body)")
                #expect(after.body.contains("\"content\":\"hi\""))
            }
        }
    }

    @Test("A client sending its body slowly is cut off at the idle timeout, without holding the gateway")
    func slowloris() async throws {
        let server = try await ScriptedServer.upstream { _ in .answer(Self.http(200, Self.okBody)) }
        try await Self.with(server, environment: ["CLIENT_IDLE_TIMEOUT_SECONDS": "1"]) { gw in
            let start = ContinuousClock.now
            let answer = try await RawConnection.exchange(
                port: gw.ports.proxy,
                "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                    + "content-length: 200\r\n\r\n{\"model\":")
            #expect(ContinuousClock.now - start < .seconds(4))
            #expect(!answer.contains("200 OK"))
            #expect(server.connections == 0, "nothing reached the upstream")
        }
    }
}

/// What `FaultInjectionTests.silentUpstream` saw: how many requests it received, and when the
/// gateway closed the connection.
final class SilentUpstreamRecord: Sendable {
    let received = Atomic<Int>(0)
    let closedAt = Mutex<ContinuousClock.Instant?>(nil)
}
