import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SwitchyardCore
import SwitchyardServer

/// A gateway running in-process on loopback ports, pointed at a `MockUpstream`, with a client.
struct TestGateway {
    let mock: MockUpstream
    let ports: GatewayServer.BoundPorts
    let client: HTTPClient

    var base: String { "http://127.0.0.1:\(ports.proxy)" }

    /// Runs `body` against a fresh mock and gateway, then stops both.
    static func with(
        environment extra: [String: String] = [:],
        logger: Logger? = nil,
        transport: (any UpstreamTransport)? = nil,
        _ body: (TestGateway) async throws -> Void
    ) async throws {
        let mock = try await MockUpstream()
        var environment = [
            "HOST": "127.0.0.1", "PROXY_PORT": "0", "METRICS_PORT": "0",
            "OPENAI_DOMAIN": "127.0.0.1", "OPENAI_PORT": String(mock.port), "OPENAI_TLS": "false",
            // No ledger unless a test asks for one (the default would write ./switchyard.sqlite).
            "DATABASE_URL": "none",
        ]
        environment.merge(extra) { $1 }
        let config = try ConfigLoader(environment: environment).load()
        var quiet = Logger(label: "switchyard-test")
        quiet.logLevel = .critical
        let server = GatewayServer(config: config, logger: logger ?? quiet, transport: transport)
        let (stream, continuation) = AsyncStream<GatewayServer.BoundPorts>.makeStream()
        let task = Task { try await server.run(signals: []) { continuation.yield($0) } }
        var iterator = stream.makeAsyncIterator()
        guard let ports = await iterator.next() else { throw CancellationError() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let gateway = TestGateway(mock: mock, ports: ports, client: client)
        do {
            try await body(gateway)
        } catch {
            try? await client.shutdown()
            task.cancel()
            await mock.stop()
            throw error
        }
        try await client.shutdown()
        task.cancel()
        _ = try? await task.value
        await mock.stop()
    }

    /// Runs `body` against a gateway configured by `yaml` (written to a temporary file) and `environment`.
    static func with(
        yaml: String, environment: [String: String] = [:], logger: Logger? = nil,
        _ body: (TestGateway) async throws -> Void
    ) async throws {
        let path = NSTemporaryDirectory() + "switchyard-test-\(UUID().uuidString).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await with(environment: environment.merging(["SWITCHYARD_CONFIG": path]) { $1 }, logger: logger, body)
    }

    /// Scrapes `/metrics` and parses the exposition.
    func scrape() async throws -> Exposition {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(ports.metrics)/metrics")
        request.method = .GET
        let response = try await client.execute(request, timeout: .seconds(5))
        return try Exposition(String(buffer: try await response.body.collect(upTo: 1 << 22)))
    }

    /// Starts a streamed chat completion for `model`; returns at the answer's head.
    func startStream(model: String, timeout: TimeAmount = .seconds(10)) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: base + "/v1/chat/completions")
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: Self.chatBody(model: model, stream: true)))
        return try await client.execute(request, timeout: timeout)
    }

    /// Sends a request and reads the whole answer.
    func send(
        _ path: String,
        method: HTTPMethod = .POST,
        body: String? = nil,
        headers: [(String, String)] = []
    ) async throws -> (status: Int, headers: HTTPHeaders, body: String) {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await client.execute(request, timeout: .seconds(20))
        let bytes = try await response.body.collect(upTo: 1 << 24)
        return (Int(response.status.code), response.headers, String(buffer: bytes))
    }

    /// The error object of an OpenAI-shaped error body.
    static func error(in body: String) throws -> [String: Any] {
        let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        guard let error = json?["error"] as? [String: Any] else { throw ShapeError(body: body) }
        return error
    }

    struct ShapeError: Error { let body: String }

    static func chatBody(model: String, stream: Bool = false) -> String {
        #"{"model":"\#(model)","stream":\#(stream),"messages":[{"role":"user","content":"hello"}]}"#
    }
}
