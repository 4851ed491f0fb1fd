import NIOCore

/// An incremental Server-Sent Events parser: feed bytes as they arrive, split anywhere; get
/// whole events back. Lines may end in `\n`, `\r\n` or `\r`; an event ends at a blank line.
public struct SSEDecoder: Sendable {
    /// One event: its `event:` name (if any) and its `data:` lines joined by newlines.
    public struct Event: Sendable, Equatable {
        /// The event name.
        public var name: String?
        /// The data.
        public var data: String
    }

    private var lines = LineSplitter()
    private var name: String?
    private var data: [String] = []

    /// Creates a decoder.
    public init() {}

    /// The events completed by `bytes`.
    public mutating func feed(_ bytes: ByteBuffer) -> [Event] {
        var events: [Event] = []
        for line in lines.feed(bytes) { handle(line, into: &events) }
        return events
    }

    /// Completes a last event that was not followed by a blank line.
    public mutating func finish() -> [Event] {
        var events: [Event] = []
        if let line = lines.finish() { handle(line, into: &events) }
        handle("", into: &events)
        return events
    }

    private mutating func handle(_ line: String, into events: inout [Event]) {
        if line.isEmpty {
            if !data.isEmpty || name != nil { events.append(Event(name: name, data: data.joined(separator: "\n"))) }
            name = nil
            data = []
        } else if line.hasPrefix(":") {
            return
        } else if let value = Self.value(of: "data", in: line) {
            data.append(value)
        } else if let value = Self.value(of: "event", in: line) {
            name = value
        }
    }

    private static func value(of field: String, in line: String) -> String? {
        guard line.hasPrefix(field) else { return nil }
        var rest = line.dropFirst(field.count)
        if rest.isEmpty { return "" }
        guard rest.first == ":" else { return nil }
        rest = rest.dropFirst()
        if rest.first == " " { rest = rest.dropFirst() }
        return String(rest)
    }
}

/// Splits bytes into lines at `\n`, `\r\n` or `\r`, across arbitrary chunk boundaries. Lines are
/// decoded as UTF-8 only when whole, so a character split between chunks stays intact.
public struct LineSplitter: Sendable {
    private var pending: [UInt8] = []
    private var lastWasCR = false

    /// Creates a splitter.
    public init() {}

    /// The lines completed by `bytes`. Line ends are found by `LineEnds.first`, so the bytes
    /// between them are not looked at one by one.
    public mutating func feed(_ bytes: ByteBuffer) -> [String] {
        var lines: [String] = []
        bytes.withUnsafeReadableBytes { raw in
            let input = raw.bindMemory(to: UInt8.self)
            guard !input.isEmpty else { return }
            var start = 0
            if lastWasCR, input.first == 0x0A { start = 1 }
            lastWasCR = false
            while start < input.count {
                let end = LineEnds.first(in: raw, from: start)
                guard end < input.count else { break }
                let piece = UnsafeBufferPointer(rebasing: input[start..<end])
                if pending.isEmpty {
                    lines.append(String(decoding: piece, as: UTF8.self))
                } else {
                    pending.append(contentsOf: piece)
                    lines.append(String(decoding: pending, as: UTF8.self))
                    pending.removeAll(keepingCapacity: true)
                }
                start = end + 1
                if input[end] == 0x0D {
                    if start == input.count {
                        lastWasCR = true
                    } else if input[start] == 0x0A {
                        start += 1
                    }
                }
            }
            pending.append(contentsOf: UnsafeBufferPointer(rebasing: input[start..<input.count]))
        }
        return lines
    }

    /// The last line if the input did not end with a line break.
    public mutating func finish() -> String? {
        defer { pending = [] }
        return pending.isEmpty ? nil : String(decoding: pending, as: UTF8.self)
    }
}

/// A stream transcoder over SSE events: conformers convert one event at a time and say how a
/// complete stream ends; feeding and splitting are shared here.
protocol SSEEventTranscoder: ChatStreamTranscoder {
    /// The incremental event parser.
    var sse: SSEDecoder { get set }
    /// Converts one event.
    mutating func handle(_ event: SSEDecoder.Event, into out: inout ByteBuffer) throws(GatewayError)
    /// Writes the end of the stream, or throws when the upstream stream was incomplete.
    mutating func complete(into out: inout ByteBuffer) throws(GatewayError)
}

extension SSEEventTranscoder {
    /// Converts every event the bytes complete.
    mutating func transcode(_ chunk: ByteBuffer) throws(GatewayError) -> ByteBuffer? {
        var out = ByteBuffer()
        for event in sse.feed(chunk) { try handle(event, into: &out) }
        return out
    }

    /// Converts a trailing event, then completes the stream.
    mutating func finish() throws(GatewayError) -> ByteBuffer? {
        var out = ByteBuffer()
        for event in sse.finish() { try handle(event, into: &out) }
        try complete(into: &out)
        return out
    }
}
