import Foundation
import NIOCore

/// Converts ConverseStream's answer, AWS's binary event stream split anywhere, into OpenAI chunks:
/// `messageStart`, `contentBlockStart` (a tool use's id and name), `contentBlockDelta` (text or a
/// tool use's input JSON), `messageStop` (the stop reason) and `metadata` (usage). An exception
/// message, a bad checksum or a stream that ends before `messageStop` fails the stream.
struct BedrockStreamTranscoder: ChatStreamTranscoder {
    var emitter: ChunkEmitter
    var usage: TokenUsage? { emitter.usage }
    var streamedText: String { emitter.text }
    private var decoder = EventStreamDecoder()
    private var stopReason: String?
    private var lastUsage: BedrockAdapter.Usage?

    init(emitter: ChunkEmitter) { self.emitter = emitter }

    struct Event: Decodable {
        struct Start: Decodable { var toolUse: BedrockAdapter.Block.ToolUse? }
        struct Delta: Decodable {
            struct ToolInput: Decodable { var input: String? }
            var text: String?
            var toolUse: ToolInput?
        }
        var contentBlockIndex: Int?
        var start: Start?
        var delta: Delta?
        var stopReason: String?
        var usage: BedrockAdapter.Usage?
        var message: String?
    }

    mutating func transcode(_ chunk: ByteBuffer) throws(GatewayError) -> ByteBuffer? {
        let messages: [EventStreamMessage]
        do {
            messages = try decoder.feed(chunk.readableBytesView)
        } catch {
            throw .badGateway("The Bedrock stream could not be read: \(error.reason).")
        }
        var out = ByteBuffer()
        for message in messages { try handle(message, into: &out) }
        return out
    }

    mutating func finish() throws(GatewayError) -> ByteBuffer? {
        guard let stopReason, !decoder.isMidMessage else {
            throw .badGateway("The Bedrock stream ended before the message stopped; the answer is incomplete.")
        }
        var out = ByteBuffer()
        emitter.text("", into: &out)
        emitter.finish(BedrockAdapter.finishReason(stopReason), into: &out)
        emitter.end(usage: lastUsage?.tokens, into: &out)
        return out
    }

    private mutating func handle(_ message: EventStreamMessage, into out: inout ByteBuffer) throws(GatewayError) {
        let event = try AdapterSupport.decode(Event.self, from: ByteBuffer(bytes: message.payload), provider: "Bedrock")
        if message.headers[":message-type"] == "exception" || message.headers[":message-type"] == "error" {
            let kind = message.headers[":exception-type"] ?? message.headers[":error-code"] ?? "exception"
            let status =
                kind.hasPrefix("throttling") || kind.hasPrefix("Throttling")
                ? 429 : kind.contains("alidation") ? 400 : 502
            throw BedrockAdapter.error(status: status, message: "\(kind): \(event.message ?? "")")
        }
        let key = "block\(event.contentBlockIndex ?? 0)"
        switch message.headers[":event-type"] {
        case "messageStart": emitter.text("", into: &out)
        case "contentBlockStart":
            if let tool = event.start?.toolUse {
                emitter.startToolCall(key: key, id: tool.toolUseId, name: tool.name, arguments: "", into: &out)
            }
        case "contentBlockDelta":
            if let text = event.delta?.text { emitter.text(text, into: &out) }
            if let input = event.delta?.toolUse?.input { emitter.toolArguments(key: key, fragment: input, into: &out) }
        case "messageStop": stopReason = event.stopReason ?? "end_turn"
        case "metadata": lastUsage = event.usage
        default: break
        }
    }
}
