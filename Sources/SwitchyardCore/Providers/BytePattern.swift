/// A fixed byte sequence found in text by Horspool's search: the window's last byte says how far
/// the pattern can move, usually its whole length, so a scan reads a fraction of the bytes. The
/// OpenAI stream relay looks for keys such as `"usage"` in every event, whose JSON is full of the
/// quotes such keys start with.
struct BytePattern: Sendable {
    /// The bytes looked for.
    let bytes: [UInt8]
    /// How far the pattern moves when a window ends in a given byte.
    private let shifts: [UInt8]

    /// A pattern of 1 to 255 bytes.
    init(_ text: String) {
        bytes = Array(text.utf8)
        precondition((1...255).contains(bytes.count), "a pattern is 1 to 255 bytes")
        var shifts = [UInt8](repeating: UInt8(bytes.count), count: 256)
        for (index, byte) in bytes.dropLast().enumerated() { shifts[Int(byte)] = UInt8(bytes.count - 1 - index) }
        self.shifts = shifts
    }

    /// The offset of the first occurrence in `text` at or after `from`, or nil.
    func firstOffset(in text: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        let length = bytes.count
        let last = length - 1
        return bytes.withUnsafeBufferPointer { pattern -> Int? in
            shifts.withUnsafeBufferPointer { shifts -> Int? in
                var start = max(0, from)
                while start + length <= text.count {
                    let end = text[start + last]
                    if end == pattern[last] {
                        var matched = 0
                        while matched < last, text[start + matched] == pattern[matched] { matched += 1 }
                        if matched == last { return start }
                    }
                    start += Int(shifts[Int(end)])
                }
                return nil
            }
        }
    }
}
