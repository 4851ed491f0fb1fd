import NIOCore

/// Relays an OpenAI SSE stream event by event while learning its usage: the text of the deltas
/// and the final usage chunk, which the gateway asked for itself and hides from a client that did
/// not. Used instead of the plain byte relay so every stream is priced. Only the event that carries
/// a usage object is parsed whole; the others are read for their delta text by a scan of their bytes.
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
        } else if Self.carriesUsage(event.data), let chunk = (try? JSONParser.parse(event.data.utf8))?.objectValue {
            let choices = chunk["choices"]?.arrayValue
            streamedText += choices?.first?["delta"]?["content"]?.stringValue ?? ""
            if let usage = TokenUsage(json: chunk["usage"]) {
                self.usage = usage
                if hideUsageChunk, choices?.isEmpty ?? true { return }
            }
        } else {
            streamedText += Self.deltaContent(event.data) ?? ""
        }
        if let name = event.name { out.writeString("event: \(name)\n") }
        if event.data.utf8.contains(UInt8(ascii: "\n")) {
            for line in event.data.split(separator: "\n", omittingEmptySubsequences: false) {
                out.writeString("data: \(line)\n")
            }
        } else {
            out.writeString("data: ")
            out.writeString(event.data)
            out.writeString("\n")
        }
        out.writeString("\n")
    }

    /// Whether an event's JSON has a `usage` object (not OpenAI's `"usage":null` on every chunk).
    /// A quote inside a JSON string is escaped, so the unescaped key cannot come from content.
    static func carriesUsage(_ data: String) -> Bool {
        var bytes = data.utf8[...]
        while let start = bytes.firstRange(of: #""usage""#.utf8) {
            var rest = bytes[start.upperBound...].drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: ":") }
            rest = rest.drop { $0 == UInt8(ascii: " ") }
            if rest.first == UInt8(ascii: "{") { return true }
            bytes = bytes[start.upperBound...]
        }
        return false
    }

    /// The first delta's `content` string, read by a scan for `"content":"…"`; a string with escapes
    /// is decoded by the JSON parser. Nil when the event has no content string.
    static func deltaContent(_ data: String) -> String? {
        let bytes = data.utf8[...]
        guard let key = bytes.firstRange(of: #""content":""#.utf8) else { return nil }
        let quote = bytes.index(before: key.upperBound)
        var index = key.upperBound
        var escaped = false
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") {
                escaped = true
                let next = bytes.index(after: index)
                guard next < bytes.endIndex else { return nil }
                index = bytes.index(after: next)
                continue
            }
            if byte == UInt8(ascii: "\"") {
                let literal = bytes[quote...index]
                guard escaped else { return String(bytes[key.upperBound..<index]) }
                return (try? JSONParser.parse(literal))?.stringValue
            }
            index = bytes.index(after: index)
        }
        return nil
    }
}
