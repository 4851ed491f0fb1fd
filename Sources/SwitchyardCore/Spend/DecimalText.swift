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

    /// Appends `value` in decimal to `out`, without making a string of it first.
    static func append(_ value: Int64, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var index = 0
            write(value, 1, into: buffer, at: &index)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<index]))
        }
    }
}
