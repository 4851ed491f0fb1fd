import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import SwitchyardCore
import Synchronization
import Testing

@testable import SwitchyardServer

@Suite("Upstream transport (SwiftNIO client) against scripted servers")
struct UpstreamTransportTests {
    static let okAnswer = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok"

    static func get(_ url: String, timeout: Double = 5) -> UpstreamRequest {
        UpstreamRequest(
            method: "GET", url: url, headers: [("accept", "*/*")], body: nil,
            timeouts: UpstreamTimeouts(connectSeconds: 2, totalSeconds: timeout))
    }

    static func body(_ response: UpstreamResponse) async throws -> String {
        String(buffer: try await response.collect(limit: 1 << 24))
    }

    /// A server that answers every request on each connection with `answer`, keeping each request
    /// in `seen` when given.
    static func answeringEvery(
        _ answer: String = okAnswer, tls: NIOSSLContext? = nil, recording seen: SeenRequests? = nil
    ) async throws -> ScriptedServer {
        try await ScriptedServer(tls: tls) { _, connection in
            try await connection.executeThenClose { inbound, _ in
                var requests = inbound.makeAsyncIterator()
                while let request = try await ScriptedServer.readRequest(&requests) {
                    seen?.append(request)
                    try await ScriptedServer.write(answer, to: connection)
                }
            }
        }
    }

    /// Expects `operation` to fail with a `TransportError` of `kind`.
    static func expectFailure(
        _ kind: TransportError.Kind, message: String? = nil, _ operation: () async throws -> Void
    ) async {
        do {
            try await operation()
            Issue.record("expected a \(kind) failure")
        } catch let error as TransportError {
            #expect(error.kind == kind, "\(error.message)")
            if let message { #expect(error.message == message) }
        } catch {
            Issue.record("expected a TransportError, got \(error)")
        }
    }

    @Test(
        "Sequential requests reuse one kept-alive connection (answers streamed or read whole); the request arrives as sent, a body past the head's buffer too",
        arguments: [false, true])
    func keepAlive(whole: Bool) async throws {
        let seen = SeenRequests()
        let server = try await Self.answeringEvery(recording: seen)
        let transport = NIOUpstreamTransport()
        for index in 0..<3 {
            var request = Self.get("http://127.0.0.1:\(server.port)/v1/models?page=\(index)")
            request.method = "POST"
            // The second body is larger than the head's buffer takes.
            let padding = index == 1 ? String(repeating: "x", count: UpstreamConnection.copiedBody + 1) : ""
            request.body = ByteBuffer(string: #"{"n":\#(index)\#(padding)}"#)
            // The transport's own host and length replace any the request carries, and its body
            // is framed by that length alone.
            request.headers += [
                ("Host", "elsewhere.example"), ("Content-Length", "999"), ("Transfer-Encoding", "chunked"),
            ]
            request.readsWholeAnswer = whole
            let response = try await transport.execute(request)
            #expect(response.status == 200)
            #expect(response.header("content-type") == "text/plain")
            #expect(try await Self.body(response) == "ok")
        }
        #expect(server.connections == 1)
        let first = try #require(seen.all.first)
        #expect(first.hasPrefix("POST /v1/models?page=0 HTTP/1.1\r\n"))
        #expect(first.lowercased().contains("host: 127.0.0.1:\(server.port)\r\n"))
        // (Not just "999": the port in the host header may hold those digits.)
        #expect(!first.lowercased().contains("elsewhere") && !first.lowercased().contains("content-length: 999"))
        #expect(first.lowercased().contains("content-length: 7\r\n"))
        #expect(first.lowercased().contains("accept: */*\r\n"))
        #expect(first.hasSuffix("\r\n\r\n{\"n\":0}"))
        #expect(seen.all.count == 3 && !seen.all.contains { $0.lowercased().contains("transfer-encoding") })
        let large = seen.all[1]
        #expect(large.lowercased().contains("content-length: \(UpstreamConnection.copiedBody + 8)\r\n"))
        #expect(
            large.hasSuffix("\r\n\r\n{\"n\":1" + String(repeating: "x", count: UpstreamConnection.copiedBody + 1) + "}")
        )
        #expect(seen.all[2].hasSuffix("\r\n\r\n{\"n\":2}"))
        try await transport.shutdown()
        await server.stop()
    }

    @Test("A request on an event loop uses that loop's connections and resumes there; each loop keeps its own")
    func connectionsPerLoop() async throws {
        let server = try await Self.answeringEvery()
        let transport = NIOUpstreamTransport()
        let loops = Array(MultiThreadedEventLoopGroup.singleton.makeIterator())
        try #require(loops.count >= 2, "the test needs two event loops")
        for _ in 0..<2 {
            for loop in loops.prefix(2) {
                try await withTaskExecutorPreference(EventLoopExecutor.of(loop)) {
                    #expect(loop.inEventLoop)
                    let response = try await transport.execute(Self.get("http://127.0.0.1:\(server.port)/"))
                    #expect(loop.inEventLoop)
                    #expect(try await Self.body(response) == "ok")
                    #expect(loop.inEventLoop)
                }
            }
        }
        // Two loops, two rounds: one connection per loop, each reused once.
        #expect(server.connections == 2)
        try await transport.shutdown()
        await server.stop()
    }

    @Test("A pooled connection the provider closed is replaced without the caller noticing")
    func closedWhileIdle() async throws {
        let server = try await ScriptedServer { _, connection in
            try await connection.executeThenClose { inbound, _ in
                var requests = inbound.makeAsyncIterator()
                _ = try await ScriptedServer.readRequest(&requests)
                try await ScriptedServer.write(Self.okAnswer, to: connection)
            }
        }
        let transport = NIOUpstreamTransport()
        for _ in 0..<3 {
            let response = try await transport.execute(Self.get("http://127.0.0.1:\(server.port)/"))
            #expect(try await Self.body(response) == "ok")
        }
        #expect(server.connections == 3)
        try await transport.shutdown()
        await server.stop()
    }

    @Test(
        "A chunked body of many pieces arrives byte for byte: streamed through a slow reader, or whole in one piece",
        arguments: [false, true])
    func chunkedBackpressure(whole: Bool) async throws {
        let pieces = (0..<2000).map { "data: {\"i\":\($0),\"pad\":\"\(String(repeating: "x", count: $0 % 97))\"}\n\n" }
        let server = try await ScriptedServer { _, connection in
            try await connection.executeThenClose { inbound, outbound in
                var requests = inbound.makeAsyncIterator()
                _ = try await ScriptedServer.readRequest(&requests)
                try await outbound.write(
                    ByteBuffer(
                        string:
                            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: text/event-stream\r\n\r\n"))
                for piece in pieces {
                    try await outbound.write(
                        ByteBuffer(string: String(piece.utf8.count, radix: 16) + "\r\n" + piece + "\r\n"))
                }
                try await outbound.write(ByteBuffer(string: "0\r\n\r\n"))
            }
        }
        let transport = NIOUpstreamTransport()
        var request = Self.get("http://127.0.0.1:\(server.port)/stream")
        request.readsWholeAnswer = whole
        let response = try await transport.execute(request)
        var received = ""
        var reads = 0
        for try await chunk in response.body {
            received += String(buffer: chunk)
            reads += 1
            if reads % 50 == 0 { try await Task.sleep(for: .milliseconds(2)) }
        }
        #expect(received == pieces.joined())
        if whole { #expect(reads == 1) } else { #expect(reads > 1) }
        try await transport.shutdown()
        await server.stop()
    }

    @Test(
        "A connection that dies mid-body fails the body (streamed or read whole); it is never a clean, short end",
        arguments: [false, true])
    func diesMidBody(whole: Bool) async throws {
        let server = try await ScriptedServer { _, connection in
            try await connection.executeThenClose { inbound, _ in
                var requests = inbound.makeAsyncIterator()
                _ = try await ScriptedServer.readRequest(&requests)
                try await ScriptedServer.write(
                    "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789", to: connection)
            }
        }
        let transport = NIOUpstreamTransport()
        let response = try await transport.execute(
            Self.get("http://127.0.0.1:\(server.port)/").readingWholeAnswer(unless: !whole))
        #expect(response.status == 200)
        await Self.expectFailure(.protocolViolation) { _ = try await Self.body(response) }
        try await transport.shutdown()
        await server.stop()
    }

    @Test("An answer read whole beyond the limit fails when its body is read; the connection is not reused")
    func wholeAnswerLimit() async throws {
        let body = String(repeating: "x", count: 1500)
        let server = try await Self.answeringEvery("HTTP/1.1 200 OK\r\ncontent-length: 1500\r\n\r\n\(body)")
        let transport = NIOUpstreamTransport(wholeBodyLimit: 1000)
        for _ in 0..<2 {
            let response = try await transport.execute(
                Self.get("http://127.0.0.1:\(server.port)/").readingWholeAnswer())
            #expect(response.status == 200)
            await Self.expectFailure(.protocolViolation) { _ = try await Self.body(response) }
        }
        #expect(server.connections == 2)
        // Streamed, the same answer passes: the limit is the whole-answer reader's.
        let streamed = try await transport.execute(Self.get("http://127.0.0.1:\(server.port)/"))
        #expect(try await Self.body(streamed).utf8.count == 1500)
        try await transport.shutdown()
        await server.stop()
    }

    @Test("Parsed upstream URLs are remembered within bounds: many distinct or very long URLs do not grow it")
    func targetCacheBounds() async throws {
        let server = try await Self.answeringEvery()
        let transport = NIOUpstreamTransport()
        let (entries, urlBytes) = NIOUpstreamTransport.targetCacheLimit
        let long = "/" + String(repeating: "m", count: urlBytes)
        let response = try await transport.execute(Self.get("http://127.0.0.1:\(server.port)\(long)"))
        #expect(try await Self.body(response) == "ok")
        #expect(transport.cachedTargets == 0)
        for index in 0..<(entries + 10) {
            let response = try await transport.execute(
                Self.get("http://127.0.0.1:\(server.port)/models/m\(index):generateContent").readingWholeAnswer())
            #expect(response.status == 200)
            #expect(transport.cachedTargets <= entries)
        }
        #expect(transport.cachedTargets == 10)
        #expect(server.connections == 1)
        try await transport.shutdown()
        await server.stop()
    }

    @Test("No answer before the deadline is a timeout; a closed port is a connect failure")
    func deadlineAndRefusal() async throws {
        let server = try await ScriptedServer { _, connection in
            try await connection.executeThenClose { inbound, _ in
                for try await _ in inbound {}
            }
        }
        let transport = NIOUpstreamTransport()
        let start = ContinuousClock.now
        await Self.expectFailure(.timeout) {
            _ = try await transport.execute(Self.get("http://127.0.0.1:\(server.port)/", timeout: 0.3))
        }
        #expect(ContinuousClock.now - start < .seconds(5), "the deadline ends the wait, not the server")
        let closed = try RefusingPort()
        await Self.expectFailure(.connect) {
            _ = try await transport.execute(Self.get("http://127.0.0.1:\(closed.port)/"))
        }
        try await transport.shutdown()
        await server.stop()
    }

    @Test(
        "A head HTTP does not allow fails before anything is written, naming the header but not its value; a tab or UTF-8 in a value passes"
    )
    func headRules() async throws {
        let seen = SeenRequests()
        let server = try await Self.answeringEvery(recording: seen)
        let transport = NIOUpstreamTransport()
        let url = "http://127.0.0.1:\(server.port)/v1/chat/completions"
        func request(_ headers: [(String, String)], url: String = url, method: String = "POST") -> UpstreamRequest {
            UpstreamRequest(
                method: method, url: url, headers: headers, body: nil,
                timeouts: UpstreamTimeouts(connectSeconds: 2, totalSeconds: 5))
        }
        let refused: [(UpstreamRequest, String)] = [
            (
                request([("authorization", "Bearer sk-secret\n")]),
                "the request header `authorization` has a control character in its value"
            ),
            (request([("x-key", "a\rb")]), "the request header `x-key` has a control character in its value"),
            (request([("x-key", "a\u{0}b")]), "the request header `x-key` has a control character in its value"),
            (request([("x-key", "a\u{7F}")]), "the request header `x-key` has a control character in its value"),
            (request([("x key", "v")]), "a request header name is not an HTTP token"),
            (request([("x:key", "v")]), "a request header name is not an HTTP token"),
            (request([("", "v")]), "a request header name is not an HTTP token"),
            (request([], url: url + "/a b"), "the request target has a character a URL does not allow"),
            (request([], url: url + "/\u{e9}"), "the request target has a character a URL does not allow"),
            (request([], method: "PO ST"), "the request method is not an HTTP token"),
        ]
        for (refusedRequest, message) in refused {
            await Self.expectFailure(.connect, message: message) { _ = try await transport.execute(refusedRequest) }
        }
        #expect(seen.all.isEmpty, "nothing of a refused head reaches the provider")
        let passed = try await transport.execute(
            request(
                [("x-note", "caf\u{e9}\tbar"), ("x-api-key", "sk-A1_~!#$%&'*+-.^`|")], url: url + "/m%20x:y?q=1&r=[2]"))
        #expect(try await Self.body(passed) == "ok")
        let written = try #require(seen.all.first)
        #expect(written.hasPrefix("POST /v1/chat/completions/m%20x:y?q=1&r=[2] HTTP/1.1\r\n"))
        #expect(written.contains("x-note: caf\u{e9}\tbar\r\n"))
        try await transport.shutdown()
        await server.stop()
    }

    @Test(
        "The idle limit is a gap between chunks (streamed or read whole): a steady answer longer than it passes, a pause fails it",
        arguments: [false, true], [nil, 1.0] as [Double?])
    func idleGap(whole: Bool, firstByte: Double?) async throws {
        // Chunked body: 12 chunks 100 ms apart (1.2 s in all, idle limit 1 s), then a 3 s pause on
        // `/pause`. The writes are scheduled on the event loop, so busy test threads cannot delay
        // them. The connection is opened first, without a head limit: under the parallel suite a
        // new connection's first head has taken more than a second, and what is tested here is the
        // gaps within answers on an open connection.
        let server = try await ScriptedServer { _, connection in
            try await connection.executeThenClose { inbound, _ in
                var requests = inbound.makeAsyncIterator()
                while let request = try await ScriptedServer.readRequest(&requests) {
                    let channel = connection.channel
                    let pause = request.contains("/pause") ? 3000 : 0
                    let parts =
                        [(0, "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")]
                        + (1...12).map { ($0 * 100, "1\r\nx\r\n") } + [(1200 + pause, "0\r\n\r\n")]
                    let writes = parts.map { milliseconds, text in
                        channel.eventLoop.scheduleTask(in: .milliseconds(Int64(milliseconds))) {
                            channel.writeAndFlush(ByteBuffer(string: text), promise: nil)
                        }
                    }
                    try await writes.last?.futureResult.get()
                }
            }
        }
        let transport = NIOUpstreamTransport()
        func request(_ path: String, idle: Double = 1.0, firstByte: Double? = firstByte) -> UpstreamRequest {
            UpstreamRequest(
                method: "GET", url: "http://127.0.0.1:\(server.port)\(path)", headers: [], body: nil,
                // A head timer no longer than the gap is kept past the head and then measures the gap.
                timeouts: UpstreamTimeouts(
                    connectSeconds: 2, firstByteSeconds: firstByte, idleSeconds: idle, totalSeconds: 10)
            ).readingWholeAnswer(unless: !whole)
        }
        _ = try await Self.body(try await transport.execute(request("/open", idle: 10, firstByte: nil)))
        let steady = try await transport.execute(request("/steady"))
        #expect(try await Self.body(steady) == String(repeating: "x", count: 12))
        // The head comes at once: the wait is the chunks' 1.2 s, then the idle limit's 1 s.
        let start = ContinuousClock.now
        let paused = try await transport.execute(request("/pause"))
        await Self.expectFailure(.timeout, message: "no data for 1.0s") { _ = try await Self.body(paused) }
        // About 2.2 s; the server itself would end the answer at 4.2 s.
        #expect(ContinuousClock.now - start < .seconds(3.6), "the gap, not the server, ends the wait")
        #expect(server.connections == 1, "the measured answers came on the connection opened first")
        try await transport.shutdown()
        await server.stop()
    }

    @Test("HTTPS: a provider with a trusted certificate answers; an untrusted one is a connect failure")
    func tls() async throws {
        let certificate = try await TestCertificate.make()
        let server = try await Self.answeringEvery(tls: try certificate.serverContext())
        let trusting = NIOUpstreamTransport(trustRoots: certificate.trustRoots)
        for host in ["127.0.0.1", "localhost"] {
            let response = try await trusting.execute(Self.get("https://\(host):\(server.port)/v1/models"))
            #expect(try await Self.body(response) == "ok")
        }
        let systemRoots = NIOUpstreamTransport()
        await Self.expectFailure(.connect) {
            _ = try await systemRoots.execute(Self.get("https://127.0.0.1:\(server.port)/v1/models"))
        }
        try await trusting.shutdown()
        try await systemRoots.shutdown()
        await server.stop()
    }

    @Test(
        "Upstream URLs parse into scheme, host, port and target",
        arguments: [
            (
                "https://api.openai.com/v1/chat/completions", true, "api.openai.com", 443, "/v1/chat/completions",
                "api.openai.com"
            ),
            ("http://127.0.0.1:11434", false, "127.0.0.1", 11434, "/", "127.0.0.1:11434"),
            ("http://[::1]:8080/x?y=1", false, "::1", 8080, "/x?y=1", "[::1]:8080"),
            ("https://host?key=v", true, "host", 443, "/?key=v", "host"),
        ])
    func target(url: String, tls: Bool, host: String, port: Int, path: String, hostHeader: String) throws {
        let target = try #require(UpstreamTarget(url))
        #expect(target.tls == tls && target.host == host && target.port == port && target.path == path)
        #expect(target.hostHeader == hostHeader)
    }

    @Test(
        "Malformed upstream URLs are refused",
        arguments: ["ftp://x", "http://", "http://h:0/", "http://h:x/", "http://[::1/"])
    func badTarget(url: String) {
        #expect(UpstreamTarget(url) == nil)
    }
}

/// Requests a scripted server saw, in order.
final class SeenRequests: Sendable {
    private let requests = Mutex<[String]>([])

    func append(_ request: String) { requests.withLock { $0.append(request) } }

    var all: [String] { requests.withLock { $0 } }
}
