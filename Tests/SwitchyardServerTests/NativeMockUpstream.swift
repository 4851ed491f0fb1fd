import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat

/// An in-process mock of the Gemini, Anthropic and Ollama native APIs on one loopback port. It
/// checks each request as strictly as the real API (required headers, known fields only, role
/// rules) and answers a 400 in the provider's own error shape when something is off.
///
/// The model name picks a behaviour: `…-overloaded` answers the provider's overload/quota error;
/// `…-midstream` fails in the middle of a stream; anything else says `Hi there` (streamed in two
/// pieces when asked to stream).
final class NativeMockUpstream: Sendable {
    private let app: LoopbackApp
    /// The bound port.
    var port: Int { app.port }

    init() async throws {
        let router = Router()
        router.post("/v1beta/models/:spec") { request, context in
            let spec = context.parameters.get("spec") ?? ""
            let body = try await Self.json(request)
            return Self.gemini(
                spec: spec, stream: request.uri.query?.contains("alt=sse") == true, headers: request.headers, body: body
            )
        }
        router.post("/v1/messages") { request, _ in
            Self.anthropic(headers: request.headers, body: try await Self.json(request))
        }
        router.post("/api/chat") { request, _ in
            Self.ollama(body: try await Self.json(request))
        }
        app = await LoopbackApp.start(router, label: "native-mock")
    }

    func stop() async {
        await app.stop()
    }

    static func json(_ request: Request) async throws -> [String: Any] {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        return (try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any]) ?? [:]
    }

    static func respond(
        _ status: HTTPResponse.Status, _ object: Any, contentType: String = "application/json"
    ) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return Response(
            status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(data: data)))
    }

    static func stream(_ contentType: String, _ pieces: [String]) -> Response {
        Response(
            status: .ok, headers: [.contentType: contentType],
            body: ResponseBody { writer in
                for piece in pieces {
                    try await writer.write(ByteBuffer(string: piece))
                    try await Task.sleep(for: .milliseconds(5))
                }
                try await writer.finish(nil)
            })
    }

    static func text(_ object: Any) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object)) ?? Data(), as: UTF8.self)
    }

    // MARK: Gemini

    static func gemini(spec: String, stream: Bool, headers: HTTPFields, body: [String: Any]) -> Response {
        func invalid(_ message: String) -> Response {
            respond(.badRequest, ["error": ["code": 400, "message": message, "status": "INVALID_ARGUMENT"]])
        }
        guard headers[HTTPField.Name("x-goog-api-key")!] != nil else { return invalid("API key not valid") }
        let allowed: Set<String> = [
            "contents", "systemInstruction", "tools", "toolConfig", "generationConfig", "safetySettings",
        ]
        guard Set(body.keys).isSubset(of: allowed) else {
            return invalid("Unknown name in payload: \(Set(body.keys).subtracting(allowed))")
        }
        guard let contents = body["contents"] as? [[String: Any]], !contents.isEmpty,
            contents.allSatisfy({
                ["user", "model"].contains($0["role"] as? String) && !(($0["parts"] as? [Any]) ?? []).isEmpty
            })
        else { return invalid("contents is not valid") }
        let model = spec.split(separator: ":").first.map(String.init) ?? ""
        if model.hasSuffix("-overloaded") {
            return respond(
                .tooManyRequests,
                ["error": ["code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED"]])
        }
        func event(_ text: String, finish: Bool) -> String {
            var candidate: [String: Any] = ["content": ["role": "model", "parts": [["text": text]]], "index": 0]
            if finish { candidate["finishReason"] = "STOP" }
            return "data: "
                + Self.text([
                    "candidates": [candidate], "usageMetadata": ["promptTokenCount": 3, "candidatesTokenCount": 2],
                ]) + "\r\n\r\n"
        }
        if stream {
            guard spec.hasSuffix(":streamGenerateContent") else {
                return invalid("streaming needs streamGenerateContent")
            }
            if model.hasSuffix("-midstream") {
                return Self.stream(
                    "text/event-stream",
                    [
                        event("Hi ", finish: false),
                        "data: "
                            + Self.text([
                                "error": ["code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"]
                            ]) + "\r\n\r\n",
                    ])
            }
            return Self.stream("text/event-stream", [event("Hi ", finish: false), event("there", finish: true)])
        }
        guard spec.hasSuffix(":generateContent") else { return invalid("unknown method") }
        return respond(
            .ok,
            [
                "candidates": [
                    ["content": ["role": "model", "parts": [["text": "Hi there"]]], "finishReason": "STOP"]
                ],
                "usageMetadata": ["promptTokenCount": 3, "candidatesTokenCount": 2],
            ])
    }

    // MARK: Anthropic

    static func anthropic(headers: HTTPFields, body: [String: Any]) -> Response {
        func invalid(_ message: String) -> Response {
            respond(.badRequest, ["type": "error", "error": ["type": "invalid_request_error", "message": message]])
        }
        guard headers[HTTPField.Name("x-api-key")!] != nil else { return invalid("x-api-key header is required") }
        guard headers[HTTPField.Name("anthropic-version")!] == "2023-06-01" else {
            return invalid("anthropic-version header is required")
        }
        let allowed: Set<String> = [
            "model", "max_tokens", "messages", "system", "stream", "temperature", "top_p", "top_k", "stop_sequences",
            "metadata", "tools", "tool_choice",
        ]
        guard Set(body.keys).isSubset(of: allowed) else { return invalid("unknown fields") }
        guard body["max_tokens"] is Int else { return invalid("max_tokens: Field required") }
        guard let messages = body["messages"] as? [[String: Any]], messages.first?["role"] as? String == "user" else {
            return invalid("messages: first message must use the user role")
        }
        let model = body["model"] as? String ?? ""
        if model.hasSuffix("-overloaded") {
            return respond(
                HTTPResponse.Status(code: 529),
                ["type": "error", "error": ["type": "overloaded_error", "message": "Overloaded"]])
        }
        if body["stream"] as? Bool == true {
            func event(_ name: String, _ data: [String: Any]) -> String {
                "event: \(name)\ndata: \(Self.text(data))\n\n"
            }
            var pieces = [
                event(
                    "message_start",
                    [
                        "type": "message_start",
                        "message": ["id": "msg_1", "usage": ["input_tokens": 3, "output_tokens": 1]],
                    ]),
                event(
                    "content_block_start",
                    ["type": "content_block_start", "index": 0, "content_block": ["type": "text", "text": ""]]),
                event(
                    "content_block_delta",
                    ["type": "content_block_delta", "index": 0, "delta": ["type": "text_delta", "text": "Hi "]]),
            ]
            if model.hasSuffix("-midstream") {
                pieces.append(
                    event("error", ["type": "error", "error": ["type": "overloaded_error", "message": "Overloaded"]]))
                return Self.stream("text/event-stream", pieces)
            }
            pieces += [
                event(
                    "content_block_delta",
                    ["type": "content_block_delta", "index": 0, "delta": ["type": "text_delta", "text": "there"]]),
                event("content_block_stop", ["type": "content_block_stop", "index": 0]),
                event(
                    "message_delta",
                    ["type": "message_delta", "delta": ["stop_reason": "end_turn"], "usage": ["output_tokens": 2]]),
                event("message_stop", ["type": "message_stop"]),
            ]
            return Self.stream("text/event-stream", pieces)
        }
        return respond(
            .ok,
            [
                "id": "msg_1", "type": "message", "role": "assistant",
                "content": [["type": "text", "text": "Hi there"]],
                "stop_reason": "end_turn", "usage": ["input_tokens": 3, "output_tokens": 2],
            ])
    }

    // MARK: Ollama

    static func ollama(body: [String: Any]) -> Response {
        let allowed: Set<String> = ["model", "messages", "tools", "format", "options", "stream", "keep_alive"]
        guard Set(body.keys).isSubset(of: allowed), let stream = body["stream"] as? Bool else {
            return respond(.badRequest, ["error": "invalid request: unknown fields or missing stream"])
        }
        let model = body["model"] as? String ?? ""
        if model.hasSuffix("-overloaded") {
            return respond(.notFound, ["error": "model \"\(model)\" not found, try pulling it first"])
        }
        func line(_ text: String, done: Bool) -> String {
            var object: [String: Any] = [
                "model": model, "message": ["role": "assistant", "content": text], "done": done,
            ]
            if done { object.merge(["done_reason": "stop", "prompt_eval_count": 3, "eval_count": 2]) { $1 } }
            return Self.text(object) + "\n"
        }
        if stream {
            if model.hasSuffix("-midstream") {
                return Self.stream(
                    "application/x-ndjson",
                    [line("Hi ", done: false), Self.text(["error": "model runner crashed"]) + "\n"])
            }
            return Self.stream(
                "application/x-ndjson", [line("Hi ", done: false), line("there", done: false), line("", done: true)])
        }
        return respond(
            .ok,
            [
                "model": model, "message": ["role": "assistant", "content": "Hi there"], "done": true,
                "done_reason": "stop", "prompt_eval_count": 3, "eval_count": 2,
            ])
    }
}
