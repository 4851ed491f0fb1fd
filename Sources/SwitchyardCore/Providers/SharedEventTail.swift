#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes an OpenAI stream's events end with after their delta text: a scanned event's bytes
/// from the quote that closes its content string to its end, blank line included. Events of one
/// stream mostly end alike, so an event that starts with the shared head, whose content string
/// closes before any backslash or line end, and that goes on with these bytes ends with them: its
/// end is known without a search for line ends, and none of its bytes needs searching for a key.
struct SharedEventTail: Sendable {
    /// The tail's bytes; empty while none is known.
    private var bytes: [UInt8] = []
    /// Tails remembered so far. Events that end differently each time (a padding field of random
    /// characters, say) would have one remembered per event: after a few, none is.
    private var remembered = 0

    /// The most tails remembered in one stream.
    static let rememberedLimit = 3

    /// For an event at the start of `bytes` that starts with the shared head (its content string
    /// opening at `quote`): where its content string closes and its length, when it ends with the
    /// tail; nil otherwise.
    func end(in bytes: UnsafeBufferPointer<UInt8>, quote: Int) -> (close: Int, length: Int)? {
        guard !self.bytes.isEmpty, let base = bytes.baseAddress,
            let close = ByteScan.plainStringEnd(in: bytes, from: quote + 1),
            bytes.count - close >= self.bytes.count
        else { return nil }
        let same = self.bytes.withUnsafeBufferPointer { tail in
            tail.baseAddress.map { memcmp(base + close, $0, tail.count) == 0 } ?? false
        }
        return same ? (close, close + self.bytes.count) : nil
    }

    /// Remembers the tail of `event`, a whole event of one line without a usage object that starts
    /// with the shared head (its content string opening at `quote`). Kept only when the content
    /// string closes before any backslash or line end and the event ends with a blank line whose
    /// last byte is `\n`: then a line end comes only at the tail's end, and no byte after it can
    /// belong to the event (after a `\r`, a `\n` could).
    mutating func remember(_ event: UnsafeBufferPointer<UInt8>, quote: Int) {
        guard remembered < Self.rememberedLimit,
            let close = ByteScan.plainStringEnd(in: event, from: quote + 1),
            Self.endsWithBlankLine(event[(close + 1)...])
        else { return }
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: event[close...])
        remembered += 1
    }

    /// Whether `bytes` end with a line end followed by a blank line ending in `\n` (`\n\n`,
    /// `\r\n\r\n`, `\r\r\n`, `\n\r\n`).
    private static func endsWithBlankLine(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        var end = bytes.endIndex
        guard end > bytes.startIndex, bytes[end - 1] == 0x0A else { return false }
        end -= 1
        if end > bytes.startIndex, bytes[end - 1] == 0x0D { end -= 1 }
        return end > bytes.startIndex && (bytes[end - 1] == 0x0A || bytes[end - 1] == 0x0D)
    }
}
