/// Random identifiers for requests, responses and tool calls. Foundation's `UUID` opens
/// `/dev/urandom` on every call on Linux; these come from `FastRandom` (no system call), so they
/// are unique within a process and unlikely to repeat across processes, but not secret.
public enum RandomID {
    /// `prefix` followed by `length` random lowercase hex digits.
    public static func make(_ prefix: String, length: Int = 32) -> String {
        String(unsafeUninitializedCapacity: prefix.utf8.count + length) { buffer in
            var index = 0
            for byte in prefix.utf8 {
                buffer[index] = byte
                index += 1
            }
            var remaining = length
            while remaining > 0 {
                var word = FastRandom.next()
                for _ in 0..<min(16, remaining) {
                    buffer[index] = hexDigits[Int(word & 0xF)]
                    word >>= 4
                    index += 1
                }
                remaining -= 16
            }
            return index
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
