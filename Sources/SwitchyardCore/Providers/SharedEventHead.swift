#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes an OpenAI stream's events start with, up to their delta text: the last scanned
/// event's bytes up to and including the opening quote of its first `"content"` string. Events of
/// one stream repeat the same id, model and nesting and differ mostly in their text, so an event
/// that starts with these bytes has its content string at the same place, and none of these bytes
/// needs searching again for a key.
struct SharedEventHead: Sendable {
    /// The head's bytes; empty while none is known.
    private var bytes: [UInt8] = []

    /// The offset of the content string's opening quote in an event that starts with the head,
    /// or nil when `event` does not start with it (or is no longer than it).
    func quote(in event: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !bytes.isEmpty, event.count > bytes.count, let start = event.baseAddress else { return nil }
        let same = bytes.withUnsafeBufferPointer { head in
            head.baseAddress.map { memcmp(start, $0, head.count) == 0 } ?? false
        }
        return same ? bytes.count - 1 : nil
    }

    /// Remembers `event`'s bytes up to `quote`, the opening quote of its first content string.
    /// The event must carry no usage object: the head is then known to hold none. A head with a
    /// line end is not kept, so an event that starts with the head has none before its quote.
    /// Returns whether the head was kept.
    @discardableResult
    mutating func remember(_ event: UnsafeBufferPointer<UInt8>, quote: Int) -> Bool {
        bytes.removeAll(keepingCapacity: true)
        let head = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: event[...quote]))
        guard LineEnds.first(in: head, from: 0) == head.count else { return false }
        bytes.append(contentsOf: head)
        return true
    }
}
