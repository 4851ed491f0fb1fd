/// The lanes of a sixteen-byte comparison read as two 64-bit numbers, so testing and walking them
/// compiles to a few integer instructions where the standard library's `any` may be left as a
/// call to an unspecialised `SIMD.min()`.
extension SIMDMask<SIMD16<Int8>> {
    /// The lanes as bytes (`0xFF` set, `0` not), lanes 0-7 in the first number's low to high bytes
    /// and lanes 8-15 in the second's.
    @inline(__always)
    var laneBytes: SIMD2<UInt64> {
        unsafeBitCast(SIMD16<UInt8>(repeating: 0).replacing(with: 0xFF, where: self), to: SIMD2<UInt64>.self)
    }

    /// Whether any lane is set.
    @inline(__always)
    var holdsAny: Bool {
        let halves = laneBytes
        return halves[0] | halves[1] != 0
    }
}
