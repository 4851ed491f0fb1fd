/// One message of AWS's binary event stream (`application/vnd.amazon.eventstream`): its string
/// headers (`:event-type`, `:message-type`, `:exception-type`, …) and its payload.
public struct EventStreamMessage: Sendable, Equatable {
    /// The headers whose values are strings.
    public var headers: [String: String]
    /// The payload (JSON, for Bedrock).
    public var payload: [UInt8]

    /// A message.
    public init(headers: [String: String], payload: [UInt8]) {
        self.headers = headers
        self.payload = payload
    }
}

/// Splits AWS's event stream into messages, however its bytes arrive: a prelude (total length,
/// headers length, the prelude's CRC-32), headers, payload, and the message's CRC-32. A bad
/// checksum or an impossible length ends the stream with an error rather than a guess.
public struct EventStreamDecoder: Sendable {
    /// Why a stream could not be read.
    public struct Failure: Error, Sendable, Equatable {
        /// What was wrong.
        public var reason: String
    }

    private var buffer: [UInt8] = []
    /// The largest message accepted (AWS's limit is 16 MiB).
    static let maxMessage = 16 << 20

    /// A decoder at the start of a stream.
    public init() {}

    /// Whether bytes of an unfinished message are held.
    public var isMidMessage: Bool { !buffer.isEmpty }

    /// The messages completed by `bytes`.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(Failure) -> [EventStreamMessage] {
        buffer.append(contentsOf: bytes)
        var messages: [EventStreamMessage] = []
        var start = 0
        while buffer.count - start >= 12 {
            let total = Int(Self.uint32(buffer, start))
            let headersLength = Int(Self.uint32(buffer, start + 4))
            guard CRC32.checksum(buffer[start..<(start + 8)]) == Self.uint32(buffer, start + 8) else {
                throw Failure(reason: "event-stream prelude checksum mismatch")
            }
            guard total >= 16, total <= Self.maxMessage, headersLength <= total - 16 else {
                throw Failure(reason: "event-stream message of impossible length \(total)")
            }
            guard buffer.count - start >= total else { break }
            let end = start + total
            guard CRC32.checksum(buffer[start..<(end - 4)]) == Self.uint32(buffer, end - 4) else {
                throw Failure(reason: "event-stream message checksum mismatch")
            }
            let headers = try Self.headers(buffer[(start + 12)..<(start + 12 + headersLength)])
            messages.append(
                EventStreamMessage(headers: headers, payload: Array(buffer[(start + 12 + headersLength)..<(end - 4)])))
            start = end
        }
        buffer.removeFirst(start)
        return messages
    }

    /// A big-endian 32-bit number at `offset`.
    static func uint32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The headers block's string values (other value types are skipped by their sizes).
    static func headers(_ block: ArraySlice<UInt8>) throws(Failure) -> [String: String] {
        var headers: [String: String] = [:]
        var index = block.startIndex
        func need(_ count: Int) throws(Failure) {
            guard block.endIndex - index >= count else { throw Failure(reason: "event-stream header cut short") }
        }
        while index < block.endIndex {
            try need(1)
            let nameLength = Int(block[index])
            try need(2 + nameLength)
            let name = String(decoding: block[(index + 1)..<(index + 1 + nameLength)], as: UTF8.self)
            index += 1 + nameLength
            let type = block[index]
            index += 1
            let fixed: [UInt8: Int] = [0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16]
            if let size = fixed[type] {
                try need(size)
                index += size
            } else if type == 6 || type == 7 {
                try need(2)
                let length = Int(block[index]) << 8 | Int(block[index + 1])
                try need(2 + length)
                if type == 7 {
                    headers[name] = String(decoding: block[(index + 2)..<(index + 2 + length)], as: UTF8.self)
                }
                index += 2 + length
            } else {
                throw Failure(reason: "event-stream header of unknown type \(type)")
            }
        }
        return headers
    }
}
