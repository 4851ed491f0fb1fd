import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat

/// An in-process OpenAI-compatible upstream on a loopback port. The model name in a request
/// picks its behaviour, so one mock serves every test.
///
/// - `gpt-fail-500`: HTTP 500 with an OpenAI error body.
/// - `gpt-garbage`: HTTP 200 whose body is not JSON.
/// - `gpt-slow-head`: waits 3 s before answering.
/// - `gpt-cut-stream`: streams two chunks, then ends without `[DONE]`.
/// - `gpt-endless-stream`: a chunk every 50 ms for up to 10 s; records when the gateway goes away.
/// - `gpt-gated-stream`: sends its head, then a normal stream once the test opens the gate
///   (`log.openGate()`), or after 20 s.
/// - anything else: a normal answer (stream or not) that echoes the model and authorization.
final class MockUpstream: Sendable {
    /// What the mock saw.
    actor Log {
        var requests: [(headers: HTTPFields, body: String)] = []
        var endlessStreamEnded: ContinuousClock.Instant?
        var gateOpen = false

        func record(_ headers: HTTPFields, _ body: String) { requests.append((headers, body)) }
        func endlessEnded() { endlessStreamEnded = .now }
        func openGate() { gateOpen = true }
    }

    let log = Log()
    private let app: LoopbackApp
    /// The bound port.
    var port: Int { app.port }

    static let streamChunks = 5

    init() async throws {
        let log = self.log
        let router = Router()
        router.post("/v1/chat/completions") { request, _ in try await Self.chat(request, log: log) }
        router.post("/v1/embeddings") { request, _ in
            _ = try await request.body.collect(upTo: 1 << 20)
            return Self.json(
                #"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":2,"total_tokens":2}}"#
            )
        }
        router.get("/v1/models") { _, _ in
            Self.json(
                #"{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"openai"},{"id":"gpt-4o-mini","object":"model","created":1,"owned_by":"openai"}]}"#
            )
        }
        app = await LoopbackApp.start(router, label: "mock-upstream")
    }

    func stop() async {
        await app.stop()
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func chunk(_ model: String, _ i: Int) -> String {
        #"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"\#(model)","choices":[{"index":0,"delta":{"content":"t\#(i) "},"finish_reason":null}]}"#
            + "\n\n"
    }

    static func chat(_ request: Request, log: Log) async throws -> Response {
        let body = String(buffer: try await request.body.collect(upTo: 1 << 24))
        await log.record(request.headers, body)
        let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] ?? [:]
        let model = object["model"] as? String ?? ""
        let stream = object["stream"] as? Bool ?? false
        let includeUsage = (object["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true
        switch model {
        case "gpt-fail-500":
            return json(
                #"{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}"#,
                status: .internalServerError)
        case "gpt-garbage":
            return json("<html>not json</html>")
        case "gpt-slow-head":
            try await Task.sleep(for: .seconds(3))
            return json("{}")
        default:
            break
        }
        guard stream else {
            let auth = request.headers[.authorization] ?? "none"
            return json(
                #"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"\#(model)","choices":[{"index":0,"message":{"role":"assistant","content":"auth=\#(auth)"},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}"#
            )
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream"],
            body: ResponseBody { writer in
                switch model {
                case "gpt-cut-stream":
                    try await writer.write(ByteBuffer(string: chunk(model, 0) + chunk(model, 1)))
                case "gpt-endless-stream":
                    do {
                        for i in 0..<200 {
                            try await writer.write(ByteBuffer(string: chunk(model, i)))
                            try await Task.sleep(for: .milliseconds(50))
                        }
                    } catch {
                        await log.endlessEnded()
                        throw error
                    }
                    await log.endlessEnded()
                default:
                    let gated = ContinuousClock.now
                    while model == "gpt-gated-stream", await !log.gateOpen, ContinuousClock.now - gated < .seconds(20) {
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    for i in 0..<streamChunks {
                        try await writer.write(ByteBuffer(string: chunk(model, i)))
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    if includeUsage {
                        try await writer.write(
                            ByteBuffer(
                                string:
                                    #"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"\#(model)","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":5,"total_tokens":12}}"#
                                    + "\n\n"))
                    }
                    try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                }
                try await writer.finish(nil)
            }
        )
    }
}
