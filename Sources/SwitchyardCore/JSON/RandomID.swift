import Foundation

/// Random identifiers for requests, responses and tool calls. Foundation's `UUID` opens
/// `/dev/urandom` on every call on Linux; these come from `FastRandom` (no system call), so they
/// are unique within a process and unlikely to repeat across processes, but not secret.
public enum RandomID {
    /// `prefix` followed by `length` random lowercase hex digits.
    public static func make(_ prefix: String, length: Int = 32) -> String {
        write(prefix, time: nil, length: length)
    }

    /// `prefix`, the time in nanoseconds since 1970 as 16 hex digits, then 16 random ones: ids
    /// made later sort later, so a table keyed by them grows at its end, not at random pages.
    public static func timeOrdered(_ prefix: String, now: Date = Date()) -> String {
        write(prefix, time: UInt64(max(0, now.timeIntervalSince1970 * 1_000_000_000)), length: 16)
    }

    /// `prefix`, `time`'s 16 hex digits (most significant first) when given, and `length` random ones.
    private static func write(_ prefix: String, time: UInt64?, length: Int) -> String {
        String(unsafeUninitializedCapacity: prefix.utf8.count + (time == nil ? 0 : 16) + length) { buffer in
            var index = 0
            for byte in prefix.utf8 {
                buffer[index] = byte
                index += 1
            }
            if let time {
                for shift in stride(from: 60, through: 0, by: -4) {
                    buffer[index] = hexDigit(time >> UInt64(shift))
                    index += 1
                }
            }
            var remaining = length
            while remaining > 0 {
                var word = FastRandom.next()
                for _ in 0..<min(16, remaining) {
                    buffer[index] = hexDigit(word)
                    word >>= 4
                    index += 1
                }
                remaining -= 16
            }
            return index
        }
    }

    /// The lowercase hex digit of `value`'s lowest four bits, computed rather than looked up (a
    /// global table is reached through its lazy initializer's check on every digit).
    @inline(__always)
    private static func hexDigit(_ value: UInt64) -> UInt8 {
        let digit = UInt8(truncatingIfNeeded: value & 0xF)
        return digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") - 10 + digit
    }
}
