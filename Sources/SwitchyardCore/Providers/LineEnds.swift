#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where SSE lines end, for the stream relay's event boundaries and the converting transcoders'
/// line splitter alike.
enum LineEnds {
    /// The offset of the first `\n` or `\r` at or after `from`, or the end: found by the C
    /// library's `memchr`, the `\r` only before the `\n`, so each byte is looked at once or twice.
    static func first(in raw: UnsafeRawBufferPointer, from: Int) -> Int {
        guard let base = raw.baseAddress, from < raw.count else { return raw.count }
        let newline = memchr(base + from, 0x0A, raw.count - from).map { UnsafeRawPointer($0) - base } ?? raw.count
        guard newline > from else { return newline }
        return memchr(base + from, 0x0D, newline - from).map { UnsafeRawPointer($0) - base } ?? newline
    }
}
