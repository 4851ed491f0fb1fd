import NIOCore

/// Relays an OpenAI SSE stream byte for byte, and reports a stream that ends without its final
/// `data: [DONE]` as cut, so the client sees an error rather than a clean end.
public struct PassthroughSSETranscoder: ChatStreamTranscoder {
    private static let done = Array("data: [DONE]".utf8)
    /// The last bytes seen, enough to find the terminator across chunk boundaries.
    private var tail: [UInt8] = []

    /// Creates a transcoder.
    public init() {}

    /// Unknown: the byte relay does not look inside events.
    public var usage: TokenUsage? { nil }
    /// Unknown: the byte relay does not look inside events.
    public var streamedText: String { "" }

    /// Returns the chunk unchanged.
    public mutating func transcode(_ chunk: ByteBuffer) throws(GatewayError) -> ByteBuffer? {
        let keep = 32
        if chunk.readableBytes >= keep {
            tail = chunk.getBytes(at: chunk.writerIndex - keep, length: keep) ?? []
        } else {
            tail.append(contentsOf: chunk.readableBytesView)
            if tail.count > keep { tail.removeFirst(tail.count - keep) }
        }
        return chunk
    }

    /// Whether the bytes relayed so far end with the whole `data: [DONE]` event, its blank line
    /// included.
    public var delivered: Bool {
        let ending = doneEnding
        return ending.done && ending.lineEnds >= 2
    }

    /// Whether the bytes so far end with `data: [DONE]` (whitespace aside), and how many line ends
    /// follow it.
    private var doneEnding: (done: Bool, lineEnds: Int) {
        var end = tail.endIndex
        var lineEnds = 0
        while end > tail.startIndex, [0x0A, 0x0D, 0x20].contains(tail[end - 1]) {
            let byte = tail[end - 1]
            if byte == 0x0A || (byte == 0x0D && end < tail.endIndex && tail[end] != 0x0A) { lineEnds += 1 }
            end -= 1
        }
        return (tail[..<end].ends(with: Self.done), lineEnds)
    }

    /// Throws when the stream did not end with `data: [DONE]`.
    public mutating func finish() throws(GatewayError) -> ByteBuffer? {
        guard doneEnding.done else {
            throw .badGateway("The upstream stream ended before its final [DONE] event; the answer is incomplete.")
        }
        return nil
    }
}

extension ArraySlice where Element: Equatable {
    func ends(with suffix: [Element]) -> Bool {
        count >= suffix.count && self[(endIndex - suffix.count)...].elementsEqual(suffix)
    }
}
