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
    /// The two probe bytes, each repeated in sixteen lanes.
    private let lanes: (first: SIMD16<UInt8>, second: SIMD16<UInt8>)

    /// A pattern of one byte or more.
    init(_ text: String) {
        bytes = Array(text.utf8)
        precondition(!bytes.isEmpty, "a pattern is one byte or more")
        let first = min(1, bytes.count - 1)
        probes = (first, max(first, bytes.count - 2))
        lanes = (SIMD16(repeating: bytes[probes.first]), SIMD16(repeating: bytes[probes.second]))
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
        let (first, second) = lanes
        // The first probe's bytes of sixteen windows start at `probe`, the second's `gap` further;
        // stepping a pointer keeps the loop free of overflow checks.
        let raw = UnsafeRawPointer(base)
        let gap = probes.second - probes.first
        var probe = raw + start + probes.first
        let last = raw + lastStart + probes.first
        while true {
            let candidates =
                (probe.loadUnaligned(as: SIMD16<UInt8>.self) .== first)
                .& ((probe + gap).loadUnaligned(as: SIMD16<UInt8>.self) .== second)
            if any(candidates), let found = firstMatch(candidates, in: text, from: probe - raw - probes.first) {
                return found
            }
            if probe == last { return nil }
            probe = min(probe + 16, last)
        }
    }

    /// The first of the sixteen windows from `start` whose lane is set in `candidates` and where
    /// the whole pattern is, or nil.
    @inline(__always)
    private func firstMatch(
        _ candidates: SIMDMask<SIMD16<Int8>>, in text: UnsafeBufferPointer<UInt8>, from start: Int
    ) -> Int? {
        let halves = candidates.laneBytes
        for half in 0..<2 {
            var lanes = halves[half]
            while lanes != 0 {
                let bit = lanes.trailingZeroBitCount
                let offset = start + half * 8 + bit / 8
                if matches(text, at: offset) { return offset }
                lanes &= ~(0xFF << UInt64(bit))
            }
        }
        return nil
    }

    /// Whether the whole pattern is at `offset` in `text`.
    @inline(__always)
    private func matches(_ text: UnsafeBufferPointer<UInt8>, at offset: Int) -> Bool {
        guard offset + bytes.count <= text.count else { return false }
        return bytes.withUnsafeBufferPointer { pattern in
            pattern.indices.allSatisfy { text[offset + $0] == pattern[$0] }
        }
    }
}
