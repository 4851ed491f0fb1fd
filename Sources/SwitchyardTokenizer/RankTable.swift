import Foundation

/// The byte sequences of one encoding and their ranks, in a flat open-addressing hash table so
/// that a lookup allocates nothing: the key is a (pointer, length) view into the text.
struct RankTable: Sendable {
    /// Marks an absent rank.
    static let none = UInt32.max

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

    /// Parses a `.tiktoken` file: one `base64 rank` pair per line.
    init(tiktokenFile data: Data) throws(TokenizerError) {
        var pairs: [(bytes: Range<Int>, rank: UInt32)] = []
        pairs.reserveCapacity(200_000)
        var arena: [UInt8] = []
        arena.reserveCapacity(data.count)
        var maxRank: UInt32 = 0
        let ok = data.withUnsafeBytes { raw -> Bool in
            let p = raw.bindMemory(to: UInt8.self)
            var i = 0
            let n = p.count
            while i < n {
                var lineEnd = i
                while lineEnd < n, p[lineEnd] != 0x0A { lineEnd += 1 }
                var space = i
                while space < lineEnd, p[space] != 0x20 { space += 1 }
                if lineEnd > i {
                    guard space < lineEnd else { return false }
                    let start = arena.count
                    guard Base64.decode(p, i..<space, into: &arena) else { return false }
                    var rank: UInt32 = 0
                    var j = space + 1
                    guard j < lineEnd else { return false }
                    while j < lineEnd, p[j] != 0x0D {
                        let d = p[j] &- 0x30
                        guard d < 10 else { return false }
                        rank = rank &* 10 &+ UInt32(d)
                        j += 1
                    }
                    pairs.append((start..<arena.count, rank))
                    maxRank = max(maxRank, rank)
                }
                i = lineEnd + 1
            }
            return true
        }
        guard ok, !pairs.isEmpty else { throw TokenizerError("the rank file is not in tiktoken format") }

        var offsets = [UInt32](repeating: 0, count: Int(maxRank) + 2)
        var ordered = [UInt8]()
        ordered.reserveCapacity(arena.count)
        var byRank = [Range<Int>?](repeating: nil, count: Int(maxRank) + 1)
        for pair in pairs { byRank[Int(pair.rank)] = pair.bytes }
        for rank in 0...Int(maxRank) {
            offsets[rank] = UInt32(ordered.count)
            if let r = byRank[rank] { ordered.append(contentsOf: arena[r]) }
        }
        offsets[Int(maxRank) + 1] = UInt32(ordered.count)

        var capacity = 1
        while capacity < pairs.count * 2 { capacity <<= 1 }
        var slots = [UInt32](repeating: 0, count: capacity)
        var byteRanks = [UInt32](repeating: Self.none, count: 256)
        var pairRanks = [UInt32](repeating: Self.none, count: 65536)
        ordered.withUnsafeBufferPointer { bytes in
            for pair in pairs {
                let start = Int(offsets[Int(pair.rank)])
                let length = Int(offsets[Int(pair.rank) + 1]) - start
                let base = bytes.baseAddress! + start
                if length == 1 { byteRanks[Int(base[0])] = pair.rank }
                if length == 2 { pairRanks[Int(base[0]) << 8 | Int(base[1])] = pair.rank }
                var slot = Int(truncatingIfNeeded: Self.hash(base, length)) & (capacity - 1)
                while slots[slot] != 0 { slot = (slot + 1) & (capacity - 1) }
                slots[slot] = pair.rank + 1
            }
        }
        self.arena = ordered
        self.offsets = offsets
        self.slots = slots
        self.mask = capacity - 1
        self.byteRanks = byteRanks
        self.pairRanks = pairRanks
        self.count = Int(maxRank) + 1
        guard byteRanks.allSatisfy({ $0 != Self.none }) else {
            throw TokenizerError("the rank file does not cover every single byte")
        }
    }

    /// The rank of `length` bytes at `start`, or `RankTable.none`.
    @inline(__always)
    func rank(_ start: UnsafePointer<UInt8>, _ length: Int) -> UInt32 {
        if length == 2 { return pairRanks[Int(start[0]) << 8 | Int(start[1])] }
        if length == 1 { return byteRanks[Int(start[0])] }
        return arena.withUnsafeBufferPointer { bytes in
            offsets.withUnsafeBufferPointer { offsets in
                slots.withUnsafeBufferPointer { slots in
                    var slot = Int(truncatingIfNeeded: Self.hash(start, length)) & mask
                    while true {
                        let entry = slots[slot]
                        if entry == 0 { return Self.none }
                        let rank = Int(entry - 1)
                        let from = Int(offsets[rank])
                        if Int(offsets[rank + 1]) - from == length,
                            memcmp(bytes.baseAddress! + from, start, length) == 0
                        {
                            return UInt32(rank)
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
        var h = UInt64(truncatingIfNeeded: length) &* 0x9E37_79B9_7F4A_7C15
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i + 8 <= length {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 29
            i += 8
        }
        if i < length {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < length {
                tail |= UInt64(p[i]) << shift
                shift += 8
                i += 1
            }
            h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
        }
        return h ^ (h >> 32)
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

    /// Appends the bytes encoded in `p[range]`; false when they are not base64.
    static func decode(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [UInt8]) -> Bool {
        var acc: UInt32 = 0
        var bits = 0
        for i in range {
            let c = p[i]
            if c == UInt8(ascii: "=") { break }
            let v = table[Int(c)]
            if v == 0xFF { return false }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
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
