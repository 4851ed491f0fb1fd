import Foundation

/// The answers a real-shaped upstream gives, in each provider's own wire format, cut into the
/// pieces a real server writes them in (one piece per SSE event or NDJSON line; a JSON answer is
/// one piece). The text carries multi-byte characters so that a cut can fall inside one.
enum ProviderAnswers {
    /// One answer: its content type and the pieces of its body, in order.
    struct Answer {
        var contentType: String
        var pieces: [String]
    }

    /// The words a chat answer is made of: enough events to overrun the relay's buffer in a burst.
    static let words = (0..<24).map { index in
        switch index % 6 {
        case 1: "café\(index)"
        case 3: "naïve🙂\(index)"
        case 5: "日本\(index)"
        default: "word\(index)"
        }
    }

    /// The answer to a request for `path` with `body`, or nil when the path is not one a provider serves.
    static func answer(path: String, body: [String: Any]) -> Answer? {
        let stream = body["stream"] as? Bool ?? false
        let model = body["model"] as? String ?? "unknown"
        switch path {
        case "/v1/chat/completions": return stream ? openAIStream(model) : openAIChat(model)
        case "/v1/embeddings": return json(openAIEmbeddings(model))
        case "/v1/messages": return stream ? anthropicStream(model) : json(anthropicMessage(model))
        // Ollama streams unless told not to.
        case "/api/chat": return body["stream"] as? Bool ?? true ? ollamaStream(model) : json(ollamaDone(model, text))
        case "/api/embed": return json(["model": model, "embeddings": [[0.25, 0.75]], "prompt_eval_count": 3])
        default: break
        }
        guard path.hasPrefix("/v1beta/models/"), let method = path.split(separator: ":").last else { return nil }
        if method.hasPrefix("streamGenerateContent") { return geminiStream() }
        if method.hasPrefix("generateContent") { return json(geminiAnswer(words: words, last: true)) }
        if method.hasPrefix("batchEmbedContents") {
            let count = (body["requests"] as? [Any])?.count ?? 1
            return json(["embeddings": Array(repeating: ["values": [0.5, -0.5]], count: count)])
        }
        return nil
    }

    static var text: String { words.joined(separator: " ") }

    static func json(_ object: Any) -> Answer {
        Answer(contentType: "application/json", pieces: [encode(object)])
    }

    static func encode(_ object: Any) -> String {
        String(
            decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(),
            as: UTF8.self)
    }

    // MARK: OpenAI

    static var openAIUsage: [String: Any] { ["prompt_tokens": 9, "completion_tokens": 24, "total_tokens": 33] }

    static func openAIChat(_ model: String) -> Answer {
        json([
            "id": "chatcmpl-seg", "object": "chat.completion", "created": 1, "model": model,
            "choices": [
                ["index": 0, "message": ["role": "assistant", "content": text], "finish_reason": "stop"]
                    as [String: Any]
            ],
            "usage": openAIUsage,
        ])
    }

    /// OpenAI's stream; for a `-mini` model its events end in `\r\n\r\n`, as servers built on
    /// sse-starlette (many OpenAI-compatible ones) write them, so a cut between `\r` and `\n` is
    /// tried before every event, `[DONE]` included.
    static func openAIStream(_ model: String) -> Answer {
        let end = model.hasSuffix("-mini") ? "\r\n\r\n" : "\n\n"
        func chunk(_ delta: [String: Any], finish: String? = nil) -> String {
            let choice: [String: Any] = ["index": 0, "delta": delta, "finish_reason": finish ?? NSNull()]
            let event: [String: Any] = [
                "id": "chatcmpl-seg", "object": "chat.completion.chunk", "created": 1, "model": model,
                "choices": [choice],
            ]
            return "data: \(encode(event))\(end)"
        }
        var pieces = [chunk(["role": "assistant", "content": ""])]
        pieces += words.enumerated().map { chunk(["content": ($0.offset == 0 ? "" : " ") + $0.element]) }
        pieces.append(chunk([:], finish: "stop"))
        let usage: [String: Any] = [
            "id": "chatcmpl-seg", "object": "chat.completion.chunk", "created": 1, "model": model, "choices": [],
            "usage": openAIUsage,
        ]
        pieces.append("data: \(encode(usage))\(end)")
        pieces.append("data: [DONE]\(end)")
        return Answer(contentType: "text/event-stream", pieces: pieces)
    }

    static func openAIEmbeddings(_ model: String) -> [String: Any] {
        [
            "object": "list", "model": model,
            "data": [["object": "embedding", "index": 0, "embedding": [0.5, -0.5, 0.125]] as [String: Any]],
            "usage": ["prompt_tokens": 2, "total_tokens": 2],
        ]
    }

    // MARK: Gemini

    static func geminiAnswer(words: [String], last: Bool) -> [String: Any] {
        var candidate: [String: Any] = [
            "content": ["role": "model", "parts": [["text": words.joined(separator: " ")]]], "index": 0,
        ]
        var answer: [String: Any] = ["modelVersion": "gemini-2.0-flash"]
        if last {
            candidate["finishReason"] = "STOP"
            answer["usageMetadata"] = ["promptTokenCount": 9, "candidatesTokenCount": 24, "totalTokenCount": 33]
        }
        answer["candidates"] = [candidate]
        return answer
    }

    static func geminiStream() -> Answer {
        let pieces = words.indices.map { index in
            let word = (index == 0 ? "" : " ") + words[index]
            return "data: \(encode(geminiAnswer(words: [word], last: index == words.count - 1)))\r\n\r\n"
        }
        return Answer(contentType: "text/event-stream", pieces: pieces)
    }

    // MARK: Anthropic

    static func anthropicMessage(_ model: String) -> [String: Any] {
        [
            "id": "msg_seg", "type": "message", "role": "assistant", "model": model,
            "content": [["type": "text", "text": text]], "stop_reason": "end_turn", "stop_sequence": NSNull(),
            "usage": ["input_tokens": 9, "output_tokens": 24],
        ]
    }

    static func anthropicStream(_ model: String) -> Answer {
        func event(_ name: String, _ data: [String: Any]) -> String {
            "event: \(name)\ndata: \(encode(data))\n\n"
        }
        var start = anthropicMessage(model)
        start["content"] = []
        start["stop_reason"] = NSNull()
        start["usage"] = ["input_tokens": 9, "output_tokens": 1]
        var pieces = [event("message_start", ["type": "message_start", "message": start])]
        pieces.append(
            event(
                "content_block_start",
                ["type": "content_block_start", "index": 0, "content_block": ["type": "text", "text": ""]]))
        pieces.append(event("ping", ["type": "ping"]))
        for (index, word) in words.enumerated() {
            let delta = ["type": "text_delta", "text": (index == 0 ? "" : " ") + word]
            pieces.append(event("content_block_delta", ["type": "content_block_delta", "index": 0, "delta": delta]))
        }
        pieces.append(event("content_block_stop", ["type": "content_block_stop", "index": 0]))
        pieces.append(
            event(
                "message_delta",
                [
                    "type": "message_delta", "delta": ["stop_reason": "end_turn", "stop_sequence": NSNull()],
                    "usage": ["output_tokens": 24],
                ]))
        pieces.append(event("message_stop", ["type": "message_stop"]))
        return Answer(contentType: "text/event-stream", pieces: pieces)
    }

    // MARK: Ollama

    static func ollamaDone(_ model: String, _ content: String) -> [String: Any] {
        [
            "model": model, "created_at": "2026-11-24T12:00:00Z", "done": true, "done_reason": "stop",
            "message": ["role": "assistant", "content": content], "prompt_eval_count": 9, "eval_count": 24,
        ]
    }

    static func ollamaStream(_ model: String) -> Answer {
        var pieces = words.enumerated().map { index, word in
            let line: [String: Any] = [
                "model": model, "created_at": "2026-11-24T12:00:00Z", "done": false,
                "message": ["role": "assistant", "content": (index == 0 ? "" : " ") + word],
            ]
            return encode(line) + "\n"
        }
        pieces.append(encode(ollamaDone(model, "")) + "\n")
        return Answer(contentType: "application/x-ndjson", pieces: pieces)
    }
}
