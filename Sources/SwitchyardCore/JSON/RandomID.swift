/// Random identifiers for requests, responses and tool calls. Foundation's `UUID` opens
/// `/dev/urandom` on every call on Linux; these come from `FastRandom` (no system call), so they
/// are unique within a process and unlikely to repeat across processes, but not secret.
public enum RandomID {
    /// `prefix` followed by `length` random lowercase hex digits.
    public static func make(_ prefix: String, length: Int = 32) -> String {
        var out = prefix
        out.reserveCapacity(prefix.utf8.count + length)
        var remaining = length
        while remaining > 0 {
            var word = FastRandom.next()
            for _ in 0..<min(16, remaining) {
                out.unicodeScalars.append(hexDigits[Int(word & 0xF)])
                word >>= 4
            }
            remaining -= 16
        }
        return out
    }

    private static let hexDigits = Array("0123456789abcdef".unicodeScalars)
}
