import Foundation

/// The byte sequences of one encoding and their ranks, in a flat open-addressing hash table so
/// that a lookup allocates nothing: the key is a (pointer, length) view into the text.
struct RankTable: Sendable {
    /// Marks an absent rank.
    static let none = UInt32.max
    /// Ranks are below this (2^24; OpenAI's largest encoding has about 200,000), so a malformed
    /// file cannot make the table allocate gigabytes.
    static let rankLimit: UInt32 = 1 << 24

    /// Every token's bytes, back to back, indexed by `offsets`.
    private let arena: [UInt8]
    /// `offsets[rank] ..< offsets[rank + 1]` is token `rank`'s bytes (empty for unused ranks).
    private let offsets: [UInt32]
    /// Slots hold rank + 1; 0 is empty.
    private let slots: [UInt32]
    private let mask: Int
    /// Ranks of single bytes.
    let byteRanks: [UInt32]
    /// Ranks of two-byte sequences, indexed by `first << 8 | second`: the hottest lookups in a merge.
    let pairRanks: [UInt32]
    /// Number of ranks (largest rank + 1).
    let count: Int

    /// Parses a `.tiktoken` file: one `base64 rank` pair per line. Reads the file three times
    /// (largest rank, each token's length, the bytes themselves) so that only the table's own
    /// arrays are allocated, each at its final size: loading the table is its whole memory cost.
    init(tiktokenFile data: Data) throws(TokenizerError) {
        let table: RankTable? = data.withUnsafeBytes { raw in
            Self.build(raw.bindMemory(to: UInt8.self))
        }
        guard let table else { throw TokenizerError("the rank file is not in tiktoken format") }
        guard table.byteRanks.allSatisfy({ $0 != Self.none }) else {
            throw TokenizerError("the rank file does not cover every single byte")
        }
        self = table
    }

    private init(
        arena: [UInt8], offsets: [UInt32], slots: [UInt32], byteRanks: [UInt32], pairRanks: [UInt32]
    ) {
        (self.arena, self.offsets, self.slots, self.mask) = (arena, offsets, slots, slots.count - 1)
        (self.byteRanks, self.pairRanks, self.count) = (byteRanks, pairRanks, offsets.count - 1)
    }

    /// The table of the rank file `p`, or nil when it is not one (a malformed line, a rank given
    /// twice, no line at all).
    private static func build(_ p: UnsafeBufferPointer<UInt8>) -> RankTable? {
        var (maxRank, tokens): (UInt32, Int) = (0, 0)
        let readable = forEachLine(p) { _, rank in
            (maxRank, tokens) = (max(maxRank, rank), tokens + 1)
            return true
        }
        guard readable, tokens > 0 else { return nil }
        // Each rank's length, one more while it is counted, so a rank given twice shows.
        var offsets = [UInt32](repeating: 0, count: Int(maxRank) + 2)
        let distinct = forEachLine(p) { token, rank in
            guard offsets[Int(rank) + 1] == 0 else { return false }
            offsets[Int(rank) + 1] = UInt32(Base64.decodedCount(p, token)) + 1
            return true
        }
        guard distinct else { return nil }
        var total: UInt32 = 0
        for rank in 1..<offsets.count {
            total += offsets[rank] == 0 ? 0 : offsets[rank] - 1
            offsets[rank] = total
        }
        var arena = [UInt8](repeating: 0, count: Int(total))
        var capacity = 1
        while capacity < tokens * 2 { capacity <<= 1 }
        var slots = [UInt32](repeating: 0, count: capacity)
        var byteRanks = [UInt32](repeating: Self.none, count: 256)
        var pairRanks = [UInt32](repeating: Self.none, count: 65536)
        let decoded = arena.withUnsafeMutableBufferPointer { bytes in
            forEachLine(p) { token, rank in
                let start = Int(offsets[Int(rank)])
                let length = Int(offsets[Int(rank) + 1]) - start
                let base = bytes.baseAddress! + start
                guard Base64.decode(p, token, into: base) else { return false }
                if length == 1 { byteRanks[Int(base[0])] = rank }
                if length == 2 { pairRanks[Int(base[0]) << 8 | Int(base[1])] = rank }
                var slot = Int(truncatingIfNeeded: Self.hash(base, length)) & (capacity - 1)
                while slots[slot] != 0 { slot = (slot + 1) & (capacity - 1) }
                slots[slot] = rank + 1
                return true
            }
        }
        guard decoded else { return nil }
        return RankTable(arena: arena, offsets: offsets, slots: slots, byteRanks: byteRanks, pairRanks: pairRanks)
    }

    /// Calls `body` with each line's base64 token and its rank until it returns false; false
    /// when a line is malformed or `body` stopped.
    private static func forEachLine(
        _ p: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>, UInt32) -> Bool
    ) -> Bool {
        var i = 0
        let n = p.count
        while i < n {
            var lineEnd = i
            while lineEnd < n, p[lineEnd] != 0x0A { lineEnd += 1 }
            var space = i
            while space < lineEnd, p[space] != 0x20 { space += 1 }
            if lineEnd > i {
                guard space < lineEnd, space + 1 < lineEnd else { return false }
                var rank: UInt32 = 0
                var j = space + 1
                while j < lineEnd, p[j] != 0x0D {
                    let d = p[j] &- 0x30
                    guard d < 10 else { return false }
                    rank = rank * 10 + UInt32(d)
                    guard rank < rankLimit else { return false }
                    j += 1
                }
                guard body(i..<space, rank) else { return false }
            }
            i = lineEnd + 1
        }
        return true
    }

    /// The rank of `length` bytes at `start`, or `RankTable.none`. Keys of up to eight bytes, most
    /// pieces of text, are compared as one integer rather than through `memcmp`.
    @inline(__always)
    func rank(_ start: UnsafePointer<UInt8>, _ length: Int) -> UInt32 {
        if length == 2 { return pairRanks[Int(start[0]) << 8 | Int(start[1])] }
        if length == 1 { return byteRanks[Int(start[0])] }
        let short = length <= 8
        let key = short ? Self.packed(UnsafeRawPointer(start), length) : 0
        let hash = short ? Self.hash(packed: key, length: length) : Self.hash(start, length)
        return arena.withUnsafeBufferPointer { bytes in
            offsets.withUnsafeBufferPointer { offsets in
                slots.withUnsafeBufferPointer { slots in
                    var slot = Int(truncatingIfNeeded: hash) & mask
                    while true {
                        let entry = slots[slot]
                        if entry == 0 { return Self.none }
                        let rank = Int(entry - 1)
                        let from = Int(offsets[rank])
                        if Int(offsets[rank + 1]) - from == length {
                            let token = bytes.baseAddress! + from
                            if short
                                ? Self.packed(UnsafeRawPointer(token), length) == key
                                : memcmp(token, start, length) == 0
                            {
                                return UInt32(rank)
                            }
                        }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }
    }

    /// The bytes of token `rank`.
    func bytes(of rank: UInt32) -> ArraySlice<UInt8> {
        arena[Int(offsets[Int(rank)])..<Int(offsets[Int(rank) + 1])]
    }

    /// A fast 64-bit hash of a short byte string, eight bytes at a time.
    @inline(__always)
    static func hash(_ p: UnsafePointer<UInt8>, _ length: Int) -> UInt64 {
        let raw = UnsafeRawPointer(p)
        if length <= 8 { return hash(packed: packed(raw, length), length: length) }
        var h = UInt64(truncatingIfNeeded: length) &* 0x9E37_79B9_7F4A_7C15
        var i = 0
        while i + 8 <= length {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 29
            i += 8
        }
        if i < length {
            h = (h ^ packed(raw + i, length - i)) &* 0x94D0_49BB_1331_11EB
        }
        return h ^ (h >> 32)
    }

    /// `hash` of a string of at most eight bytes from its `packed` value, which a lookup has
    /// already loaded to compare keys with.
    @inline(__always)
    static func hash(packed key: UInt64, length: Int) -> UInt64 {
        var h = UInt64(truncatingIfNeeded: length) &* 0x9E37_79B9_7F4A_7C15
        if length == 8 {
            h = (h ^ key) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 29
        } else {
            h = (h ^ key) &* 0x94D0_49BB_1331_11EB
        }
        return h ^ (h >> 32)
    }

    /// The `count` (at most eight) bytes at `p` as one integer, the first byte lowest, read in at
    /// most three loads (four, two and one bytes) rather than a byte at a time.
    @inline(__always)
    static func packed(_ p: UnsafeRawPointer, _ count: Int) -> UInt64 {
        if count == 8 { return UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)) }
        var value: UInt64 = 0
        var offset = 0
        if count & 4 != 0 {
            value = UInt64(UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
            offset = 4
        }
        if count & 2 != 0 {
            let pair = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            value |= UInt64(pair) &<< UInt64(offset &* 8)
            offset += 2
        }
        if count & 1 != 0 {
            value |= UInt64(p.load(fromByteOffset: offset, as: UInt8.self)) &<< UInt64(offset &* 8)
        }
        return value
    }
}

/// Base64 decoding of the rank files' token column.
enum Base64 {
    static let table: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            t[Int(c)] = UInt8(i)
        }
        return t
    }()

    /// The number of bytes `p[range]` decodes to: six bits for each character before any `=`.
    static func decodedCount(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int {
        var characters = 0
        for i in range {
            if p[i] == UInt8(ascii: "=") { break }
            characters += 1
        }
        return characters * 6 / 8
    }

    /// Writes the `decodedCount` bytes encoded in `p[range]` to `out`; false when they are not
    /// base64.
    static func decode(
        _ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: UnsafeMutablePointer<UInt8>
    )
        -> Bool
    {
        var acc: UInt32 = 0
        var bits = 0
        var written = 0
        for i in range {
            let c = p[i]
            if c == UInt8(ascii: "=") { break }
            let v = table[Int(c)]
            if v == 0xFF { return false }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out[written] = UInt8(truncatingIfNeeded: acc >> UInt32(bits))
                written += 1
            }
        }
        return true
    }
}

/// A tokenizer problem: an unknown encoding or a rank file that cannot be read.
public struct TokenizerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public let message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    /// What went wrong.
    public var description: String { message }
}
