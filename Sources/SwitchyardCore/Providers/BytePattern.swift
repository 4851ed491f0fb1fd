/// A fixed byte sequence found in text sixteen windows at a time: two of its bytes are compared
/// with sixteen text positions at once (one vector compare each), and only a window where both
/// agree is compared whole. The OpenAI stream relay looks for keys such as `"usage"` in every
/// event, whose JSON is full of the quotes such keys start and end with, so the two bytes compared
/// first are inner ones.
struct BytePattern: Sendable {
    /// The bytes looked for.
    let bytes: [UInt8]
    /// The offsets in the pattern of the two bytes compared first (the second not before the first).
    private let probes: (first: Int, second: Int)

    /// A pattern of one byte or more.
    init(_ text: String) {
        bytes = Array(text.utf8)
        precondition(!bytes.isEmpty, "a pattern is one byte or more")
        let first = min(1, bytes.count - 1)
        probes = (first, max(first, bytes.count - 2))
    }

    /// The offset of the first occurrence in `text` at or after `from`, or nil.
    func firstOffset(in text: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        var start = max(0, from)
        // The last sixteen windows whose probe bytes a vector can hold; the final step moves back to
        // them. Windows seen again there held no match, so any found there is at or after `start`.
        let lastStart = text.count - probes.second - 16
        guard start <= lastStart, let base = text.baseAddress else {
            while start + bytes.count <= text.count {
                if matches(text, at: start) { return start }
                start += 1
            }
            return nil
        }
        let raw = UnsafeRawPointer(base)
        let first = SIMD16<UInt8>(repeating: bytes[probes.first])
        let second = SIMD16<UInt8>(repeating: bytes[probes.second])
        while true {
            let firsts = raw.loadUnaligned(fromByteOffset: start + probes.first, as: SIMD16<UInt8>.self)
            let seconds = raw.loadUnaligned(fromByteOffset: start + probes.second, as: SIMD16<UInt8>.self)
            let candidates = (firsts .== first) .& (seconds .== second)
            if any(candidates) {
                for lane in 0..<16 where candidates[lane] && matches(text, at: start + lane) { return start + lane }
            }
            if start == lastStart { return nil }
            start = min(start + 16, lastStart)
        }
    }

    /// Whether the whole pattern is at `offset` in `text`.
    private func matches(_ text: UnsafeBufferPointer<UInt8>, at offset: Int) -> Bool {
        guard offset + bytes.count <= text.count else { return false }
        return bytes.withUnsafeBufferPointer { pattern in
            pattern.indices.allSatisfy { text[offset + $0] == pattern[$0] }
        }
    }
}
