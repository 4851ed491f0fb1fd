/// Searches for the first of a few byte values, eight bytes at a time: `(x - n·0x01…) & ~x &
/// 0x80…` marks the bytes of `x` below `n` (at most 0x80), the lowest mark always a true one (a
/// borrow only runs upward from it); a byte equal to one sought is below 1 after an exclusive or
/// with that value repeated. Shared by the stream relay and the upstream head's checks.
public enum ByteScan {
    /// The marks of `word`'s bytes below `limit` (at most 0x80): high bits of the bytes, the lowest
    /// a true one.
    @inlinable @inline(__always)
    public static func bytes(below limit: UInt8, in word: UInt64) -> UInt64 {
        (word &- repeated(limit)) & ~word & 0x8080_8080_8080_8080
    }

    /// The marks of `word`'s zero bytes, high bits of the bytes, the lowest a true one.
    @inlinable @inline(__always)
    public static func zeroBytes(_ word: UInt64) -> UInt64 {
        bytes(below: 1, in: word)
    }

    /// `byte` in every byte of a word.
    @inlinable @inline(__always)
    public static func repeated(_ byte: UInt8) -> UInt64 {
        0x0101_0101_0101_0101 &* UInt64(byte)
    }

    /// The offset of the first byte at or after `from` that `sought` holds, or the end; `marks`
    /// marks a word's bytes that `sought` holds (through `zeroBytes`), its lowest mark a true one.
    @inlinable @inline(__always)
    public static func first(
        in bytes: UnsafeBufferPointer<UInt8>, from: Int, marks: (UInt64) -> UInt64, sought: (UInt8) -> Bool
    ) -> Int {
        guard let base = bytes.baseAddress else { return bytes.count }
        var index = from
        while index + 8 <= bytes.count {
            let found = marks(UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)))
            if found != 0 { return index + found.trailingZeroBitCount / 8 }
            index += 8
        }
        while index < bytes.count, !sought(bytes[index]) { index += 1 }
        return min(index, bytes.count)
    }

    /// The offset of the quote that closes a JSON string whose characters start at `from`, when
    /// neither a backslash nor a line end (which no JSON string holds raw) comes first; nil
    /// otherwise, or when the string does not close in `bytes`.
    static func plainStringEnd(in bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        let (quote, backslash, newline, ret) = (repeated(0x22), repeated(0x5C), repeated(0x0A), repeated(0x0D))
        let end = first(
            in: bytes, from: from,
            marks: {
                zeroBytes($0 ^ quote) | zeroBytes($0 ^ backslash) | zeroBytes($0 ^ newline) | zeroBytes($0 ^ ret)
            },
            sought: { $0 == 0x22 || $0 == 0x5C || $0 == 0x0A || $0 == 0x0D })
        return end < bytes.count && bytes[end] == 0x22 ? end : nil
    }
}
