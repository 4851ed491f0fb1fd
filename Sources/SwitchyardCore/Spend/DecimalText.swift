/// Numbers written in decimal straight into a string's storage (`String(unsafeUninitializedCapacity:)`),
/// for the text the spend code writes for every request: ledger timestamps and days, cost headers.
enum DecimalText {
    /// Writes `value` in decimal at `index` in `out`, zero-padded to `width` (a sign first when
    /// negative), then `separator` when given; moves `index` past what it wrote. The caller's
    /// string has room for it: up to 20 bytes for any `Int64`, a sign included, and the separator.
    static func write(
        _ value: Int64, _ width: Int, then separator: Unicode.Scalar? = nil,
        into out: UnsafeMutableBufferPointer<UInt8>, at index: inout Int
    ) {
        if value < 0 {
            out[index] = UInt8(ascii: "-")
            index += 1
        }
        var digits = 1
        var rest = value.magnitude
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        rest = value.magnitude
        let end = index + max(width, digits)
        for position in (index..<end).reversed() {
            out[position] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        index = end
        if let separator {
            out[index] = UInt8(ascii: separator)
            index += 1
        }
    }
}
