import NIOCore

/// Relays an OpenAI SSE stream event by event while learning its usage: the text of the deltas
/// and the final usage chunk, which the gateway asked for itself and hides from a client that did
/// not. Used instead of the plain byte relay when the gateway must account tokens.
public struct UsageTrackingSSETranscoder: ChatStreamTranscoder {
    private var sse = SSEDecoder()
    private let hideUsageChunk: Bool
    private var sawDone = false
    /// The usage chunk's counts.
    public private(set) var usage: TokenUsage?
    /// Delta text so far.
    public private(set) var streamedText = ""

    /// Creates a transcoder; `hideUsageChunk` drops the final usage chunk from the output.
    public init(hideUsageChunk: Bool) {
        self.hideUsageChunk = hideUsageChunk
    }

    /// Passes events through (re-framed), minus a hidden usage chunk.
    public mutating func transcode(_ chunk: ByteBuffer) throws(GatewayError) -> ByteBuffer? {
        var out = ByteBuffer()
        for event in sse.feed(chunk) { handle(event, into: &out) }
        return out
    }

    /// Throws when the stream ended before `[DONE]`.
    public mutating func finish() throws(GatewayError) -> ByteBuffer? {
        var out = ByteBuffer()
        for event in sse.finish() { handle(event, into: &out) }
        guard sawDone else {
            throw .badGateway("The upstream stream ended before its final [DONE] event; the answer is incomplete.")
        }
        return out
    }

    private mutating func handle(_ event: SSEDecoder.Event, into out: inout ByteBuffer) {
        if event.data == "[DONE]" {
            sawDone = true
        } else if let chunk = (try? JSONParser.parse(event.data.utf8))?.objectValue {
            let choices = chunk["choices"]?.arrayValue
            streamedText += choices?.first?["delta"]?["content"]?.stringValue ?? ""
            if let usage = TokenUsage(json: chunk["usage"]) {
                self.usage = usage
                if hideUsageChunk, choices?.isEmpty ?? true { return }
            }
        }
        if let name = event.name { out.writeString("event: \(name)\n") }
        for line in event.data.split(separator: "\n", omittingEmptySubsequences: false) {
            out.writeString("data: \(line)\n")
        }
        out.writeString("\n")
    }
}
