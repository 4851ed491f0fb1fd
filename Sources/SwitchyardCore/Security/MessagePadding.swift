/// The Merkle–Damgård padding SHA-1 and SHA-256 share: a 1 bit, zeros, then the message length
/// in bits as a big-endian 64-bit number, to a whole number of 64-byte blocks.
enum MessagePadding {
    /// `message` padded to whole 64-byte blocks.
    static func padded<Bytes: Collection<UInt8>>(_ message: Bytes) -> [UInt8] {
        var data = Array(message)
        let bitLength = UInt64(data.count) * 8
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) {
            data.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        return data
    }

    /// The 16 big-endian words of the block at `offset`, into the start of `w`.
    static func loadWords(_ data: [UInt8], block offset: Int, into w: inout [UInt32]) {
        for i in 0..<16 {
            let j = offset + i * 4
            w[i] = UInt32(data[j]) << 24 | UInt32(data[j + 1]) << 16 | UInt32(data[j + 2]) << 8 | UInt32(data[j + 3])
        }
    }

    /// Words as lower-case hex, eight digits each.
    static func hex(_ words: [UInt32]) -> String {
        words.map { word in
            let s = String(word, radix: 16)
            return String(repeating: "0", count: 8 - s.count) + s
        }.joined()
    }
}
