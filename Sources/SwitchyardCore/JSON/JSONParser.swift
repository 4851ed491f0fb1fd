/// A strict RFC 8259 parser from UTF-8 bytes to `JSONValue`. The hot path reads every chat
/// request and every usage-bearing answer; Foundation's `JSONDecoder` spends most of its time
/// there in generic `Decodable` machinery, which a direct byte scan does not need. Nesting is
/// bounded so hostile input cannot exhaust the stack; invalid UTF-8 is refused, not repaired.
/// An object that repeats a member name is refused too: readers disagree on which of the two
/// counts (JavaScript and this parser's tree keep the last, `JSONDecoder` the first), so a body
/// that repeats one could be counted as one thing and sent as another.
public struct JSONParser {
    /// Why a body is not JSON; the offset is for diagnostics and tests, never shown to clients.
    public struct Failure: Error, Equatable, CustomStringConvertible {
        /// The byte offset where parsing stopped.
        public var offset: Int
        /// The member name an object repeated, when that is why.
        public var repeatedKey: String?

        /// A failure at `offset`; `repeatedKey` when an object repeated that member name.
        public init(offset: Int, repeatedKey: String? = nil) {
            self.offset = offset
            self.repeatedKey = repeatedKey
        }

        /// What is wrong, for error messages (it holds no part of the document but a member name).
        public var description: String {
            repeatedKey.map { "an object repeats the member `\($0)`" } ?? "not valid JSON at byte \(offset)"
        }
    }

    /// The deepest nesting of arrays and objects accepted.
    public static let maximumDepth = 512

    /// Parses `bytes` as exactly one JSON value, surrounded by optional whitespace.
    /// - Throws: `Failure` when the bytes are not one valid JSON value.
    public static func parse(_ bytes: some Collection<UInt8>) throws(Failure) -> JSONValue {
        try parseNotingIrregularities(bytes).value
    }

    /// Parses like `parse` and tells whether the document was irregular: a `\u` escape was a lone
    /// surrogate (it became U+FFFD, as JavaScript reads it; `JSONDecoder` refuses it).
    static func parseNotingIrregularities(
        _ bytes: some Collection<UInt8>
    ) throws(Failure) -> (value: JSONValue, irregular: Bool) {
        var parsed = (value: JSONValue.null, irregular: false)
        try withBuffer(bytes) { buffer throws(Failure) in parsed = try parse(buffer: buffer) }
        return parsed
    }

    /// Runs `read` on `bytes` as one contiguous buffer, copied only when they are not one already.
    /// `read` hands its result back through a capture: a generic result would make this function,
    /// which other modules call unspecialised, look up `Optional` and `Result` metadata each time.
    private static func withBuffer(
        _ bytes: some Collection<UInt8>, _ read: (UnsafeRawBufferPointer) throws(Failure) -> Void
    ) throws(Failure) {
        var failure: Failure?
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer -> Bool in
            do throws(Failure) { try read(UnsafeRawBufferPointer(buffer)) } catch { failure = error }
            return true
        }
        if contiguous == nil {
            Array(bytes).withUnsafeBytes { buffer in
                do throws(Failure) { try read(buffer) } catch { failure = error }
            }
        }
        if let failure { throw failure }
    }

    private static func parse(buffer: UnsafeRawBufferPointer) throws(Failure) -> (value: JSONValue, irregular: Bool) {
        try whole(buffer) { parser throws(Failure) in try parser.value(depth: 0) }
    }

    /// Checks that `bytes` are one JSON object exactly as `parse` would, and returns the value of
    /// its top-level member `key` (nil when it has none; a failure when it is repeated), building no
    /// other value. For an answer that passes through unchanged and is read for one member only
    /// (a completion's `usage`): its other members cost a scan, not a tree.
    /// - Throws: `Failure` when the bytes are not one valid JSON value, or not an object.
    public static func member(_ key: String, ofObject bytes: some Collection<UInt8>) throws(Failure) -> JSONValue? {
        var found: JSONValue?
        try withBuffer(bytes) { buffer throws(Failure) in found = try member(key, buffer: buffer) }
        return found
    }

    private static func member(_ key: String, buffer: UnsafeRawBufferPointer) throws(Failure) -> JSONValue? {
        try whole(buffer) { parser throws(Failure) -> JSONValue? in
            guard parser.current == UInt8(ascii: "{") else { throw parser.failure() }
            var found: JSONValue?
            try parser.sequence(depth: 1, close: UInt8(ascii: "}")) { parser throws(Failure) in
                let start = parser.index
                if try parser.memberKey() == key {
                    guard found == nil else { throw Failure(offset: start, repeatedKey: key) }
                    found = try parser.value(depth: 1)
                } else {
                    try parser.skipValue(depth: 1)
                }
            }
            return found
        }.value
    }

    /// Reads one value with `read` from all of `buffer`, with only whitespace around it.
    private static func whole<T>(
        _ buffer: UnsafeRawBufferPointer, _ read: (inout JSONParser) throws(Failure) -> T
    ) throws(Failure) -> (value: T, irregular: Bool) {
        var parser = JSONParser(bytes: buffer)
        parser.skipWhitespace()
        let value = try read(&parser)
        parser.skipWhitespace()
        guard parser.index == buffer.count else { throw Failure(offset: parser.index) }
        return (value, parser.irregular)
    }

    private let bytes: UnsafeRawBufferPointer
    private var index = 0
    /// Whether a lone surrogate was replaced.
    private var irregular = false
    /// The members of the objects being read, innermost last, with where each began. An object's
    /// dictionary is made at its end, at its exact size: a parsed request is kept for as long as
    /// its answer streams, and most of its objects have two or three members.
    private var pending: [(key: String, value: JSONValue, start: Int)] = []

    private init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private func failure() -> Failure { Failure(offset: index) }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func value(depth: Int) throws(Failure) -> JSONValue {
        guard let byte = current else { throw failure() }
        switch byte {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw failure()
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw failure() }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw Failure(offset: index + offset)
        }
        index += count
    }

    private mutating func object(depth: Int) throws(Failure) -> JSONValue {
        // Room for the members of a typical request's open objects at once, made at the first
        // object (a lone string is parsed too): growing from empty reallocated it four or five
        // times per request.
        if pending.capacity == 0 { pending.reserveCapacity(16) }
        let first = pending.count
        try sequence(depth: depth, close: UInt8(ascii: "}")) { parser throws(Failure) in
            let start = parser.index
            let key = try parser.memberKey()
            parser.pending.append((key, try parser.value(depth: depth), start))
        }
        defer { pending.removeSubrange(first...) }
        do {
            return .object(try JSONObject(checking: pending[first...].map { .init(key: $0.key, value: $0.value) }))
        } catch {
            throw Failure(offset: pending[first + error.offset].start, repeatedKey: error.key)
        }
    }

    private mutating func array(depth: Int) throws(Failure) -> JSONValue {
        var elements: [JSONValue] = []
        try sequence(depth: depth, close: UInt8(ascii: "]")) { parser throws(Failure) in
            elements.append(try parser.value(depth: depth))
        }
        return .array(elements)
    }

    /// Reads the elements of an array or the members of an object, the opening bracket being
    /// current, up to `close`; `element` reads each one.
    @inline(__always)
    private mutating func sequence(
        depth: Int, close: UInt8, _ element: (inout JSONParser) throws(Failure) -> Void
    ) throws(Failure) {
        guard depth <= Self.maximumDepth else { throw failure() }
        index += 1
        skipWhitespace()
        if current == close {
            index += 1
            return
        }
        while true {
            try element(&self)
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
            case close:
                index += 1
                return
            default: throw failure()
            }
        }
    }

    /// A member's key and the colon after it, leaving the parser at the member's value.
    private mutating func memberKey() throws(Failure) -> String {
        guard current == UInt8(ascii: "\"") else { throw failure() }
        let key = try string()
        skipWhitespace()
        guard current == UInt8(ascii: ":") else { throw failure() }
        index += 1
        skipWhitespace()
        return key
    }

    /// Steps over one value, checking it as `value` would, without building it.
    private mutating func skipValue(depth: Int) throws(Failure) {
        switch current {
        case UInt8(ascii: "{"):
            try sequence(depth: depth + 1, close: UInt8(ascii: "}")) { parser throws(Failure) in
                try parser.skipString()
                parser.skipWhitespace()
                guard parser.current == UInt8(ascii: ":") else { throw parser.failure() }
                parser.index += 1
                parser.skipWhitespace()
                try parser.skipValue(depth: depth + 1)
            }
        case UInt8(ascii: "["):
            try sequence(depth: depth + 1, close: UInt8(ascii: "]")) { parser throws(Failure) in
                try parser.skipValue(depth: depth + 1)
            }
        case UInt8(ascii: "\""): try skipString()
        default: _ = try value(depth: depth)  // a number or a literal: nothing is allocated
        }
    }

    /// Steps over a string, checking it as `string` would: the common case without escapes is
    /// a scan, with a UTF-8 check only when a byte is not ASCII.
    private mutating func skipString() throws(Failure) {
        guard current == UInt8(ascii: "\"") else { throw failure() }
        let run = try plainRun()
        guard run.closed else {
            _ = try escapedString(from: run.start)  // rare: read it whole
            return
        }
        guard !run.ascii else { return }
        var scalars = UnsafeRawBufferPointer(rebasing: bytes[run.start..<index - 1]).makeIterator()
        var utf8 = Unicode.UTF8.ForwardParser()
        while true {
            switch utf8.parseScalar(from: &scalars) {
            case .valid: continue
            case .emptyInput: return
            case .error: throw Failure(offset: run.start)
            }
        }
    }

    /// A string; the common case without escapes is one copy of the bytes, validated as UTF-8
    /// only when one of them is not ASCII (keys and most text are, and need no validation).
    private mutating func string() throws(Failure) -> String {
        let run = try plainRun()
        guard run.closed else { return try escapedString(from: run.start) }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[run.start..<index - 1])
        if run.ascii {
            return slice.withMemoryRebound(to: UInt8.self) { String(decoding: $0, as: UTF8.self) }
        }
        return try validated(slice, at: run.start)
    }

    /// Scans a string's bytes up to its closing quote, which it reads (`closed`), or up to its
    /// first escape, where it stops (on the backslash); the opening quote is current. Returns
    /// where the bytes start and whether those scanned are all ASCII.
    private mutating func plainRun() throws(Failure) -> (start: Int, closed: Bool, ascii: Bool) {
        index += 1
        let start = index
        var highBits: UInt8 = 0
        // Keys and short values end within their first bytes, read one by one; a longer run goes
        // on sixteen bytes at a time, and its last bytes one by one again.
        if let closed = try plainBytes(to: min(bytes.count, index + 16), &highBits) {
            return (start, closed, highBits & 0x80 == 0)
        }
        highBits |= skipPlainBlocks()
        if let closed = try plainBytes(to: bytes.count, &highBits) {
            return (start, closed, highBits & 0x80 == 0)
        }
        throw failure()
    }

    /// Reads a plain run's bytes one by one up to `end`, or-ing them into `highBits`. Returns true
    /// at the closing quote (read), false at a backslash, nil when `end` came first; throws at a
    /// control byte.
    @inline(__always)
    private mutating func plainBytes(to end: Int, _ highBits: inout UInt8) throws(Failure) -> Bool? {
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return true
            }
            if byte == UInt8(ascii: "\\") { return false }
            guard byte >= 0x20 else { throw failure() }
            highBits |= byte
            index += 1
        }
        return nil
    }

    /// Steps over whole blocks of sixteen bytes none of which ends a plain run (a quote, a
    /// backslash, a control byte), as long text (prompts, tool results: most of a large request's
    /// bytes) has; returns the blocks' bytes or-ed together as far as their high bit goes.
    private mutating func skipPlainBlocks() -> UInt8 {
        guard let base = bytes.baseAddress else { return 0 }
        let (quote, backslash, space) = (
            SIMD16<UInt8>(repeating: UInt8(ascii: "\"")), SIMD16<UInt8>(repeating: UInt8(ascii: "\\")),
            SIMD16<UInt8>(repeating: 0x20)
        )
        var seen = SIMD16<UInt8>(repeating: 0)
        while bytes.count - index >= 16 {
            let block = base.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self)
            if ((block .== quote) .| (block .== backslash) .| (block .< space)).holdsAny { break }
            seen |= block
            index += 16
        }
        return (seen .>= SIMD16(repeating: 0x80)).holdsAny ? 0x80 : 0
    }

    private func validated(_ slice: UnsafeRawBufferPointer, at offset: Int) throws(Failure) -> String {
        guard let text = String(validating: slice, as: UTF8.self) else { throw Failure(offset: offset) }
        return text
    }

    private mutating func escapedString(from start: Int) throws(Failure) -> String {
        var utf8 = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: utf8, as: UTF8.self) else { throw Failure(offset: start) }
                return text
            case UInt8(ascii: "\\"):
                guard let escape = current else { throw failure() }
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"): utf8.append(contentsOf: try unicodeEscape())
                default: throw Failure(offset: index - 1)
                }
            default:
                guard byte >= 0x20 else { throw Failure(offset: index - 1) }
                utf8.append(byte)
            }
        }
        throw failure()
    }

    /// The UTF-8 of a `\uXXXX` escape (the `\u` already read), joining surrogate pairs; a lone
    /// surrogate becomes U+FFFD, as JavaScript's `JSON.parse` output would when re-encoded.
    private mutating func unicodeEscape() throws(Failure) -> [UInt8] {
        var scalar = try hex4()
        if (0xD800...0xDBFF).contains(scalar), bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"),
            bytes[index + 1] == UInt8(ascii: "u")
        {
            let mark = index
            index += 2
            let low = try hex4()
            if (0xDC00...0xDFFF).contains(low) {
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else {
                index = mark
            }
        }
        guard let character = Unicode.Scalar(scalar) else {
            irregular = true
            return Array("\u{FFFD}".utf8)
        }
        return Array(String(Character(character)).utf8)
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard bytes.count - index >= 4 else { throw failure() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure()
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// A number per the JSON grammar (no leading zeros, no bare `.`, no `+`); small integers
    /// convert directly, the rest through the standard library's correctly rounded parser.
    private mutating func number() throws(Failure) -> Double {
        let start = index
        var integer = true
        if current == UInt8(ascii: "-") { index += 1 }
        guard let first = current, isDigit(first) else { throw failure() }
        index += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        if current == UInt8(ascii: ".") {
            integer = false
            index += 1
            guard let digit = current, isDigit(digit) else { throw failure() }
            skipDigits()
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            integer = false
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard let digit = current, isDigit(digit) else { throw failure() }
            skipDigits()
        }
        let text = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
        if integer, text.count <= 15 {
            var value = 0
            for byte in text where byte != UInt8(ascii: "-") { value = value * 10 + Int(byte - UInt8(ascii: "0")) }
            return Double(text.first == UInt8(ascii: "-") ? -value : value)
        }
        guard let value = Double(String(decoding: text, as: UTF8.self)), value.isFinite else {
            throw Failure(offset: start)
        }
        return value
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func skipDigits() {
        while let byte = current, isDigit(byte) { index += 1 }
    }
}
