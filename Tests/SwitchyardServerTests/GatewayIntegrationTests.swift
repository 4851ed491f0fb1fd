import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import SwitchyardCore
import SwitchyardServer
import Synchronization
import Testing

/// The gateway in-process against a mock OpenAI upstream on loopback.
@Suite("Gateway against a mock OpenAI upstream", .timeLimit(.minutes(1)))
struct GatewayIntegrationTests {
    @Test("A non-streaming chat passes through, renamed, with the client's key and an echoed request id")
    func nonStreaming() async throws {
        try await TestGateway.with { gw in
            let r = try await gw.send(
                "/v1/chat/completions", body: TestGateway.chatBody(model: "openai/gpt-4o"),
                headers: [("authorization", "Bearer sk-client"), ("x-request-id", "abc-123")])
            #expect(r.status == 200)
            #expect(r.headers["x-request-id"] == ["abc-123"])
            #expect(r.headers["content-type"] == ["application/json"])
            let json = try #require(try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any])
            #expect(json["model"] as? String == "gpt-4o")
            let seen = try #require(await gw.mock.log.requests.last)
            #expect(seen.headers[.authorization] == "Bearer sk-client")
            #expect(seen.headers[values: .init("x-request-id")!] == ["abc-123"])
            #expect(seen.body.contains(#""model":"gpt-4o""#))
        }
    }

    @Test("A server-side OPENAI_API_KEY replaces the client's credentials upstream")
    func serverKey() async throws {
        try await TestGateway.with(environment: ["OPENAI_API_KEY": "sk-server"]) { gw in
            let r = try await gw.send(
                "/v1/chat/completions", body: TestGateway.chatBody(model: "gpt-4o"),
                headers: [("authorization", "Bearer sk-client")])
            #expect(r.status == 200)
            #expect(r.body.contains("auth=Bearer sk-server"))
        }
    }

    @Test("A stream arrives chunk by chunk and ends with [DONE]")
    func streaming() async throws {
        try await TestGateway.with { gw in
            let response = try await gw.startStream(model: "gpt-4o")
            #expect(response.status == .ok)
            #expect(response.headers["content-type"] == ["text/event-stream"])
            var text = ""
            var reads = 0
            for try await chunk in response.body {
                reads += 1
                text += String(buffer: chunk)
            }
            let events = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(events.count == MockUpstream.streamChunks + 1)
            #expect(events.last == "data: [DONE]")
            for i in 0..<MockUpstream.streamChunks { #expect(events[i].contains(#""content":"t\#(i) ""#)) }
            #expect(reads > 1, "the stream should not have been buffered into one piece")
        }
    }

    @Test("A stream's head reaches the client when the provider sends it, not with the first token")
    func streamHeadComesFirst() async throws {
        try await TestGateway.with { gw in
            // The provider sends its head, then nothing until the test opens its gate (or 20 s
            // pass): a head held back for the first token would arrive only after the gate.
            let start = ContinuousClock.now
            let response = try await gw.startStream(model: "gpt-gated-stream", timeout: .seconds(15))
            let head = ContinuousClock.now - start
            let gateOpen = await gw.mock.log.gateOpen
            #expect(response.status == .ok && !gateOpen && head < .seconds(10), "head after \(head)")
            await gw.mock.log.openGate()
            let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
            #expect(body.hasSuffix("data: [DONE]\n\n"))
        }
    }

    @Test(
        "A request runs on its connection's event loop (upstream exchange, answer, stream relay); a plain answer is read whole",
        arguments: [false, true])
    func pinnedToLoop(largePrompt: Bool) async throws {
        let transport = LoopRecordingTransport()
        // A large prompt, counted for the rate limit off the loop (`HeavyWork`): the request comes back to it.
        let environment = largePrompt ? ["ENABLE_RATE_LIMITING": "true", "MAX_TOKENS": "10000000"] : [:]
        let content = largePrompt ? String(repeating: "many words ", count: 10_000) : "hello"
        let body = #"{"model":"gpt-4o","messages":[{"role":"user","content":"\#(content)"}]}"#
        try await TestGateway.with(environment: environment, transport: transport) { gw in
            let plain = try await gw.send("/v1/chat/completions", body: body)
            #expect(plain.status == 200)
            let streamed = try await gw.send(
                "/v1/chat/completions", body: TestGateway.chatBody(model: "gpt-4o", stream: true))
            #expect(streamed.status == 200)
            #expect(streamed.body.hasSuffix("data: [DONE]\n\n"))
        }
        // Two exchanges; each step of each on one event loop (the head, then every body read).
        #expect(transport.steps.count > 4)
        #expect(transport.steps.allSatisfy { $0 }, "\(transport.steps)")
        #expect(transport.wholeAnswers == [true, false])
    }

    @Test("Upstream 500 keeps its status and message in OpenAI's shape")
    func upstream500() async throws {
        try await TestGateway.with { gw in
            let r = try await gw.send("/v1/chat/completions", body: TestGateway.chatBody(model: "gpt-fail-500"))
            #expect(r.status == 500)
            let error = try TestGateway.error(in: r.body)
            #expect(error["message"] as? String == "The server had an error")
            #expect(error["type"] as? String == "server_error")
        }
    }

    @Test("An upstream answer that is not JSON is a 502")
    func garbage() async throws {
        try await TestGateway.with { gw in
            let r = try await gw.send("/v1/chat/completions", body: TestGateway.chatBody(model: "gpt-garbage"))
            #expect(r.status == 502)
            #expect(try TestGateway.error(in: r.body)["type"] as? String == "server_error")
        }
    }

    @Test("An unreachable upstream is a 502 at once")
    func upstreamDown() async throws {
        try await TestGateway.with(environment: ["OPENAI_PORT": "1"]) { gw in
            let started = ContinuousClock.now
            let r = try await gw.send("/v1/chat/completions", body: TestGateway.chatBody(model: "gpt-4o"))
            #expect(r.status == 502)
            #expect((try TestGateway.error(in: r.body)["message"] as? String)?.contains("cannot be reached") == true)
            #expect(ContinuousClock.now - started < .seconds(3))
        }
    }

    @Test("An upstream slower than the timeout is a 504")
    func upstreamTimeout() async throws {
        try await TestGateway.with(environment: ["UPSTREAM_TIMEOUT_SECONDS": "0.5"]) { gw in
            let r = try await gw.send("/v1/chat/completions", body: TestGateway.chatBody(model: "gpt-slow-head"))
            #expect(r.status == 504)
            #expect(try TestGateway.error(in: r.body)["code"] as? String == "upstream_timeout")
        }
    }

    @Test("A stream the upstream cuts before [DONE] ends with an SSE error event")
    func cutStream() async throws {
        try await TestGateway.with { gw in
            let r = try await gw.send(
                "/v1/chat/completions", body: TestGateway.chatBody(model: "gpt-cut-stream", stream: true))
            #expect(r.status == 200)
            let events = r.body.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(events.count == 3)
            let last = try #require(events.last)
            #expect(last.hasPrefix("data: {\"error\":"))
            #expect(!r.body.contains("data: [DONE]"))
            let error = try TestGateway.error(in: String(last.dropFirst("data: ".count)))
            #expect((error["message"] as? String)?.contains("[DONE]") == true)
        }
    }

    @Test("A client that disconnects mid-stream releases the upstream within a second")
    func clientDisconnect() async throws {
        try await TestGateway.with { gw in
            let reader = Task {
                let response = try await gw.startStream(model: "gpt-endless-stream", timeout: .seconds(30))
                var iterator = response.body.makeAsyncIterator()
                _ = try await iterator.next()
                try await Task.sleep(for: .seconds(30))
            }
            // Let the stream start, then drop the client.
            let waitStart = ContinuousClock.now
            while await gw.mock.log.requests.isEmpty, ContinuousClock.now - waitStart < .seconds(5) {
                try await Task.sleep(for: .milliseconds(20))
            }
            try #require(await !gw.mock.log.requests.isEmpty, "the stream never reached the upstream")
            try await Task.sleep(for: .milliseconds(300))
            let disconnected = ContinuousClock.now
            reader.cancel()
            var ended: ContinuousClock.Instant?
            while ended == nil, ContinuousClock.now - disconnected < .seconds(5) {
                try await Task.sleep(for: .milliseconds(20))
                ended = await gw.mock.log.endlessStreamEnded
            }
            let end = try #require(ended, "the upstream stream was never released")
            #expect(end - disconnected < .seconds(1))
        }
    }

    @Test(
        "Bad requests answer 400 in OpenAI's shape",
        arguments: [
            ("{not json", "not valid JSON"),
            (#"{"messages":[{"role":"user","content":"x"}]}"#, "`model`"),
            (#"{"model":"gpt-4o"}"#, "`messages`"),
        ])
    func badRequests(body: String, message: String) async throws {
        try await TestGateway.with { gw in
            let r = try await gw.send("/v1/chat/completions", body: body)
            #expect(r.status == 400)
            let error = try TestGateway.error(in: r.body)
            #expect(error["type"] as? String == "invalid_request_error")
            #expect((error["message"] as? String)?.contains(message) == true)
            #expect(r.headers["x-request-id"].first?.hasPrefix("req_") == true)
        }
    }

    @Test(
        "Unknown paths, and known ones with the wrong method, answer 404 in OpenAI's shape",
        arguments: ["/v1/nothing-here", "/v1/chat/completions"])
    func unknownPath(path: String) async throws {
        try await TestGateway.with { gw in
            let r = try await gw.send(path, method: .GET)
            #expect(r.status == 404)
            #expect(try TestGateway.error(in: r.body)["code"] as? String == "unknown_url")
            #expect(r.headers["x-request-id"].first?.hasPrefix("req_") == true)
        }
    }

    @Test("A body over the limit gets a 413, not a reset connection")
    func bodyTooLarge() async throws {
        try await TestGateway.with(environment: ["MAX_BODY_BYTES": "2048"]) { gw in
            let big =
                #"{"model":"gpt-4o","messages":[{"role":"user","content":""# + String(repeating: "x", count: 200_000)
                + #""}]}"#
            let r = try await gw.send("/v1/chat/completions", body: big)
            #expect(r.status == 413)
            #expect(try TestGateway.error(in: r.body)["code"] as? String == "request_too_large")
            // The connection is still usable afterwards.
            let ok = try await gw.send("/v1/chat/completions", body: TestGateway.chatBody(model: "gpt-4o"))
            #expect(ok.status == 200)
        }
    }

    @Test("Models from the upstream are listed; health and readiness answer")
    func modelsHealthReady() async throws {
        try await TestGateway.with { gw in
            let models = try await gw.send("/v1/models", method: .GET)
            #expect(models.status == 200)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(models.body.utf8)) as? [String: Any])
            let ids = (json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(ids == ["gpt-4o", "gpt-4o-mini"])
            #expect(try await gw.send("/health", method: .GET).status == 200)
            #expect(try await gw.send("/ready", method: .GET).body == #"{"status":"ready"}"#)
        }
    }

    @Test("Embeddings pass through")
    func embeddings() async throws {
        try await TestGateway.with { gw in
            let r = try await gw.send("/v1/embeddings", body: #"{"model":"text-embedding-3-small","input":"hi"}"#)
            #expect(r.status == 200)
            #expect(r.body.contains(#""embedding":[0.1,0.2]"#))
            let missing = try await gw.send("/v1/embeddings", body: #"{"model":"text-embedding-3-small"}"#)
            #expect(missing.status == 400)
        }
    }
}

/// The real transport, noting for each step of an exchange (sending, the answer head, every body
/// read) whether it ran on the event loop the exchange started on.
final class LoopRecordingTransport: UpstreamTransport {
    private let inner = NIOUpstreamTransport()
    private let seen = Mutex<[Bool]>([])
    private let whole = Mutex<[Bool]>([])

    /// For each exchange, whether its answer was asked for whole.
    var wholeAnswers: [Bool] { whole.withLock { $0 } }

    /// One entry per step: true when it ran on the exchange's event loop.
    var steps: [Bool] { seen.withLock { $0 } }

    func execute(_ request: UpstreamRequest) async throws(TransportError) -> UpstreamResponse {
        let loop = MultiThreadedEventLoopGroup.currentEventLoop
        whole.withLock { $0.append(request.readsWholeAnswer) }
        record(loop)
        var response = try await inner.execute(request)
        record(loop)
        response.body = RecordedBody(base: response.body, loop: loop, transport: self)
        return response
    }

    func record(_ loop: (any EventLoop)?) {
        let onLoop = loop?.inEventLoop ?? false
        seen.withLock { $0.append(onLoop) }
    }

    func shutdown() async throws { try await inner.shutdown() }
}

/// A response body that records, at every read, whether it ran on the exchange's event loop.
struct RecordedBody: AsyncSequence, Sendable {
    let base: any AsyncSequence<ByteBuffer, any Error> & Sendable
    let loop: (any EventLoop)?
    let transport: LoopRecordingTransport

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: any AsyncIteratorProtocol<ByteBuffer, any Error>
        let loop: (any EventLoop)?
        let transport: LoopRecordingTransport

        mutating func next() async throws -> ByteBuffer? {
            transport.record(loop)
            return try await base.next()
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), loop: loop, transport: transport)
    }
}
