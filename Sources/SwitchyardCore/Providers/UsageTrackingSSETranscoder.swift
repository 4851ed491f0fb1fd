import NIOCore

/// Relays an OpenAI SSE stream event by event, byte for byte as the upstream framed it, while
/// learning its usage: the text of the deltas and the final usage chunk, which the gateway asked
/// for itself and hides from a client that did not. Used instead of the plain byte relay so every
/// stream is priced. Events are found and read by scanning their bytes; only an event that carries
/// a usage object (or data over several lines) is decoded and parsed whole.
public struct UsageTrackingSSETranscoder: ChatStreamTranscoder {
    private let hideUsageChunk: Bool
    /// Bytes of the event not complete yet.
    private var pending = ByteBuffer()
    private var boundary = EventBoundary()
    /// Whether `data: [DONE]` has been passed on.
    public private(set) var delivered = false
    /// The usage chunk's counts.
    public private(set) var usage: TokenUsage?
    /// The UTF-8 bytes of the delta text so far.
    private var streamedBytes: [UInt8] = []
    /// What the stream's events start with, once one has been scanned.
    private var head = SharedEventHead()
    /// What the stream's events end with after their text, once one has been scanned.
    private var tail = SharedEventTail()

    /// Delta text so far.
    public var streamedText: String { String(decoding: streamedBytes, as: UTF8.self) }

    /// Creates a transcoder; `hideUsageChunk` drops the final usage chunk from the output.
    public init(hideUsageChunk: Bool) {
        self.hideUsageChunk = hideUsageChunk
        // Room for a few deltas before the text first grows.
        streamedBytes.reserveCapacity(128)
    }

    /// Passes complete events through unchanged, minus a hidden usage chunk. The events are read
    /// in place, and the output shares the chunk's storage: the events passed on are sliced out of
    /// it, not copied.
    public mutating func transcode(_ chunk: ByteBuffer) throws(GatewayError) -> ByteBuffer? {
        if pending.readableBytes == 0 {
            pending = chunk
        } else {
            var chunk = chunk
            pending.writeBuffer(&chunk)
        }
        var out = ByteBuffer()
        let events = pending
        let first = events.readerIndex
        // Offsets below are from the first readable byte. Every event up to a hidden one passes in
        // one slice: `passed` is where the bytes not passed on yet start.
        let consumed = events.withUnsafeReadableBytes { raw -> Int in
            let bytes = raw.bindMemory(to: UInt8.self)
            var (start, passed) = (0, 0)
            while true {
                // An event that starts with the shared head has no line end before its content
                // string: the search for its end starts there. One that also ends with the shared
                // tail, its text plain, ends there, and holds no key but its content.
                let rest = UnsafeBufferPointer(rebasing: bytes[start...])
                let shared = head.quote(in: rest)
                if let quote = shared, boundary.atEventStart, let (close, length) = tail.end(in: rest, quote: quote) {
                    streamedBytes.append(contentsOf: UnsafeBufferPointer(rebasing: rest[(quote + 1)..<close]))
                    start += length
                    continue
                }
                guard
                    let (length, lines) = boundary.nextEnd(
                        in: UnsafeRawBufferPointer(rebasing: raw[start...]), lineFree: shared ?? 0)
                else { break }
                let event = UnsafeBufferPointer(rebasing: bytes[start..<(start + length)])
                let kept =
                    learn(event, lines: lines, sharedQuote: shared)
                    ?? read(events.getSlice(at: first + start, length: length) ?? ByteBuffer())
                if !kept {
                    Self.pass(events, from: first + passed, to: first + start + Self.previousEnding(event), into: &out)
                    passed = start + length
                }
                start += length
            }
            Self.pass(events, from: first + passed, to: first + start, into: &out)
            return start
        }
        if consumed == pending.readableBytes {
            pending = ByteBuffer()
        } else {
            pending.moveReaderIndex(forwardBy: consumed)
            pending.discardReadBytes()
        }
        return out
    }

    /// Passes a last event that was not followed by a blank line; throws when the stream ended
    /// before `[DONE]`.
    public mutating func finish() throws(GatewayError) -> ByteBuffer? {
        var out = ByteBuffer()
        let rest = pending
        if rest.readableBytes > 0 {
            let (kept, ending) = rest.withUnsafeReadableBytes { raw in
                let event = raw.bindMemory(to: UInt8.self)
                let kept = learn(event, lines: boundary.pendingLines, sharedQuote: head.quote(in: event))
                return (kept ?? read(rest), Self.previousEnding(event))
            }
            Self.pass(rest, from: rest.readerIndex, to: kept ? rest.writerIndex : rest.readerIndex + ending, into: &out)
        }
        pending = ByteBuffer()
        guard delivered else {
            throw .badGateway("The upstream stream ended before its final [DONE] event; the answer is incomplete.")
        }
        return out
    }

    /// Adds the bytes of `events` from `start` to `end` to `out`: the first run as a slice of
    /// `events`, any later one (after a hidden event) copied behind it.
    private static func pass(_ events: ByteBuffer, from start: Int, to end: Int, into out: inout ByteBuffer) {
        guard end > start, let run = events.getSlice(at: start, length: end - start) else { return }
        if out.readableBytes == 0 {
            out = run
        } else {
            out.writeImmutableBuffer(run)
        }
    }

    /// How many of the event's first bytes belong to the previous event's ending: a `\n` after the
    /// `\r` that ended it in an earlier chunk. They still pass when the event is hidden, and are
    /// not read as a line of the event.
    private static func previousEnding(_ event: UnsafeBufferPointer<UInt8>) -> Int {
        event.first == 0x0A ? 1 : 0
    }

    /// Learns what an event of `lines` lines says by scanning its bytes: whether it is kept (false
    /// for the usage chunk to hide), or nil when the scan cannot tell and the event must be read
    /// whole. Only a one-line event without a usage object is scanned; others (a usage object,
    /// several data lines, a comment or an event name first) are read whole. An event that starts
    /// with the stream's shared head (its content string opening at `sharedQuote`) is searched
    /// only from its content string on.
    private mutating func learn(_ event: UnsafeBufferPointer<UInt8>, lines: Int, sharedQuote: Int?) -> Bool? {
        let bytes = UnsafeBufferPointer(rebasing: event.dropFirst(Self.previousEnding(event)))
        if Self.isDone(bytes) {
            delivered = true
            return true
        }
        guard lines == 1 else { return nil }
        if let quote = sharedQuote {
            guard !Self.carriesUsage(bytes, from: quote) else { return nil }
            Self.appendString(in: bytes, openingAt: quote, to: &streamedBytes)
            tail.remember(bytes, quote: quote)
            return true
        }
        guard !Self.carriesUsage(bytes, from: 0) else { return nil }
        if let quote = Self.contentQuote(in: bytes) {
            let kept = head.remember(bytes, quote: quote)
            Self.appendString(in: bytes, openingAt: quote, to: &streamedBytes)
            if kept { tail.remember(bytes, quote: quote) }
        }
        return true
    }

    /// Reads an event the scan cannot: decoded, parsed whole. Returns false when it is the usage
    /// chunk to hide.
    private mutating func read(_ event: ByteBuffer) -> Bool {
        var decoder = SSEDecoder()
        for decoded in decoder.feed(event) + decoder.finish() {
            guard let chunk = (try? JSONParser.parse(decoded.data.utf8))?.objectValue else { continue }
            let choices = chunk["choices"]?.arrayValue
            streamedBytes += (choices?.first?["delta"]?["content"]?.stringValue ?? "").utf8
            if let usage = TokenUsage(json: chunk["usage"]) {
                self.usage = usage
                if hideUsageChunk, choices?.isEmpty ?? true { return false }
            }
        }
        return true
    }

    /// Whether an event's JSON has a `usage` object (not OpenAI's `"usage":null` on every chunk).
    /// A quote inside a JSON string is escaped, so the unescaped key cannot come from content.
    static func carriesUsage(_ event: ByteBuffer) -> Bool {
        event.withUnsafeReadableBytes { carriesUsage($0.bindMemory(to: UInt8.self), from: 0) }
    }

    /// Whether a `usage` key that starts at or after `from` opens an object. A key cannot start
    /// before the opening quote of a content string and reach past it, so a search from that
    /// quote misses only keys wholly before it.
    private static func carriesUsage(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Bool {
        var from = start
        while let at = usageKey.firstOffset(in: bytes, from: from) {
            var index = at + usageKey.bytes.count
            while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: ":") {
                index += 1
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "{") { return true }
            from = at + 1
        }
        return false
    }

    /// Appends the UTF-8 bytes of the first delta's `content` string to `text`, read by a scan for
    /// the `"content"` key and its string value (spaces around the colon allowed); a string with
    /// escapes is decoded by the JSON parser. Returns false when the event has no content string.
    @discardableResult
    static func appendDeltaContent(of event: ByteBuffer, to text: inout [UInt8]) -> Bool {
        event.withUnsafeReadableBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            guard let quote = contentQuote(in: bytes) else { return false }
            return appendString(in: bytes, openingAt: quote, to: &text)
        }
    }

    /// The offset of the opening quote of the first `"content"` key's string value, or nil.
    private static func contentQuote(in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var from = 0
        while let key = contentKey.firstOffset(in: bytes, from: from) {
            from = key + 1
            var start = key + contentKey.bytes.count
            while start < bytes.count,
                bytes[start] == 0x20 || bytes[start] == 0x09 || bytes[start] == UInt8(ascii: ":")
            {
                start += 1
            }
            if start < bytes.count, bytes[start] == UInt8(ascii: "\"") { return start }
        }
        return nil
    }

    /// Appends the JSON string whose opening quote is at `quote`; false when it does not close.
    @discardableResult
    private static func appendString(
        in bytes: UnsafeBufferPointer<UInt8>, openingAt quote: Int, to text: inout [UInt8]
    ) -> Bool {
        var index = quote + 1
        var escaped = false
        while true {
            index = quoteOrBackslash(in: bytes, from: index)
            guard index < bytes.count else { return false }
            guard bytes[index] == UInt8(ascii: "\"") else {
                escaped = true
                index += 2
                continue
            }
            guard escaped else {
                text.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[(quote + 1)..<index]))
                return true
            }
            let literal = UnsafeBufferPointer(rebasing: bytes[quote...index])
            guard let decoded = (try? JSONParser.parse(literal))?.stringValue else { return false }
            text += decoded.utf8
            return true
        }
    }

    /// The offset of the first `"` or `\` at or after `from`, or the end, eight bytes tested at a
    /// time (`ByteScan`).
    static func quoteOrBackslash(in bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
        let (quote, backslash) = (ByteScan.repeated(0x22), ByteScan.repeated(0x5C))
        return ByteScan.first(
            in: bytes, from: from, marks: { ByteScan.zeroBytes($0 ^ quote) | ByteScan.zeroBytes($0 ^ backslash) },
            sought: { $0 == 0x22 || $0 == 0x5C })
    }

    /// Whether the event is `data: [DONE]` (with or without the space, with its line endings).
    private static func isDone(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count <= 16 else { return false }
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0x0A || bytes[end - 1] == 0x0D { end -= 1 }
        let line = UnsafeBufferPointer(rebasing: bytes[..<end])
        let spaced: StaticString = "data: [DONE]"
        return spaced.withUTF8Buffer { spaced in
            line.elementsEqual(spaced)
                || line.count == spaced.count - 1 && line[..<5].elementsEqual(spaced[..<5])
                    && line[5...].elementsEqual(spaced[6...])
        }
    }

    private static let usageKey = BytePattern(#""usage""#)
    private static let contentKey = BytePattern(#""content""#)
}

/// Finds where SSE events end in a byte stream: at a blank line, whatever mix of `\n`, `\r\n` and
/// `\r` ends its lines, across arbitrary chunk boundaries.
struct EventBoundary: Sendable {
    /// Bytes of the pending buffer already scanned.
    private var scanned = 0
    /// The last byte scanned ended a line with `\r` (a `\n` after it belongs to the same ending).
    private var lastWasCR = false
    /// No byte of the current line has been seen yet.
    private var lineEmpty = true
    /// The lines of the current event that have ended, blank ones not counted.
    private var endedLines = 0

    /// The lines of the event not complete yet, counting one not ended yet.
    var pendingLines: Int { endedLines + (lineEmpty ? 0 : 1) }

    /// Whether nothing of an event has been scanned, and no `\r` ending left open before it.
    var atEventStart: Bool { scanned == 0 && !lastWasCR && lineEmpty && endedLines == 0 }

    /// The length of the first complete event in `raw` and how many lines it has (blank ones not
    /// counted), or nil while it is incomplete. Once an event is returned, the next call is given
    /// the bytes after it; otherwise the same bytes again, with more after them.
    /// `lineFree` leading bytes of `raw` are known to hold no line end (an event's shared head):
    /// they are not searched.
    mutating func nextEnd(in raw: UnsafeRawBufferPointer, lineFree: Int = 0) -> (length: Int, lines: Int)? {
        if lineFree > scanned {
            // The event's first line is at least that long.
            (scanned, lineEmpty) = (lineFree, false)
        }
        while scanned < raw.count {
            if !lastWasCR, raw[scanned] != 0x0A, raw[scanned] != 0x0D {
                // Inside a line: straight to its end.
                scanned = LineEnds.first(in: raw, from: scanned)
                lineEmpty = false
                if scanned == raw.count { return nil }
            }
            let byte = raw[scanned]
            scanned += 1
            if byte == 0x0A, lastWasCR {
                lastWasCR = false
                continue
            }
            lastWasCR = byte == 0x0D
            guard byte == 0x0A || byte == 0x0D else {
                lineEmpty = false
                continue
            }
            if lineEmpty {
                // A `\r\n` ending stays whole with its event when its `\n` is here already.
                if lastWasCR, scanned < raw.count, raw[scanned] == 0x0A {
                    scanned += 1
                    lastWasCR = false
                }
                defer { (scanned, endedLines) = (0, 0) }
                return (scanned, endedLines)
            }
            lineEmpty = true
            endedLines += 1
        }
        return nil
    }
}
