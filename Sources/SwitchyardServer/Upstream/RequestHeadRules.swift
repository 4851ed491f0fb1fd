import NIOHTTP1

/// What HTTP allows in a request head the gateway writes to a provider (RFC 9110 sections 5.1,
/// 5.5 and 9.1, RFC 9112 section 3.2): the rules of NIO's `NIOHTTPRequestHeadersValidator`,
/// checked once where the head is built rather than by a handler every request part passes
/// through. A value with a line break (a key file's trailing newline, say) would otherwise split
/// the head into headers nobody wrote.
enum RequestHeadRules {
    /// Why `head` cannot be written, naming the method, target or header name at fault (never a
    /// value, which may be a credential); nil when it can.
    static func problem(_ head: UpstreamRequestHead) -> String? {
        if !isToken(head.method.rawValue) { return "the request method is not an HTTP token" }
        if !all(head.target, isTargetByte) { return "the request target has a character a URL does not allow" }
        for (name, value) in head.fields {
            if !isToken(name) { return "a request header name is not an HTTP token" }
            if !(value.utf8.withContiguousStorageIfAvailable(areValueBytes) ?? value.utf8.allSatisfy(isValueByte)) {
                return "the request header `\(name)` has a control character in its value"
            }
        }
        return nil
    }

    /// Whether `text` is a `token`: one or more of the characters a header name or method may hold.
    private static func isToken(_ text: String) -> Bool {
        !text.isEmpty && all(text, isTokenByte)
    }

    /// Whether every byte of `text` is `allowed`, read in place (a byte at a time through
    /// `String.UTF8View` costs several times more).
    private static func all(_ text: String, _ allowed: (UInt8) -> Bool) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { $0.allSatisfy(allowed) } ?? text.utf8.allSatisfy(allowed)
    }

    /// A letter or a digit, which both sets below hold. Tested by ranges rather than looked up in
    /// a table: a global table is reached through its lazy initializer's check on every byte.
    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "a")...UInt8(ascii: "z"):
            true
        default: false
        }
    }

    /// A `tchar` of RFC 9110: a letter, a digit or one of ``!#$%&'*+-.^_`|~``.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        if isAlphanumeric(byte) { return true }
        return switch byte {
        case UInt8(ascii: "!"), UInt8(ascii: "#")...UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"),
            UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default: false
        }
    }

    /// A value may hold any byte but the controls other than the tab.
    private static func isValueByte(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\t") || (byte >= 0x20 && byte != 0x7F)
    }

    /// Whether every byte of `bytes` may be in a value, tested eight at a time: `(x - n·0x01…) &
    /// ~x & 0x80…` is not zero exactly when a byte of `x` is below `n` (at most 0x80), so a word
    /// without a control byte or a delete (zero after an exclusive or with 0x7F) passes whole; a
    /// word with one (a tab, say) is tested a byte at a time.
    static func areValueBytes(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let (ones, highs): (UInt64, UInt64) = (0x0101_0101_0101_0101, 0x8080_8080_8080_8080)
        var index = 0
        while index + 8 <= bytes.count {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            let deletes = word ^ (ones &* 0x7F)
            let marks = ((word &- ones &* 0x20) & ~word | (deletes &- ones) & ~deletes) & highs
            if marks != 0, !UnsafeBufferPointer(rebasing: bytes[index..<(index + 8)]).allSatisfy(isValueByte) {
                return false
            }
            index += 8
        }
        return UnsafeBufferPointer(rebasing: bytes[index...]).allSatisfy(isValueByte)
    }

    /// A character of a URL (RFC 3986): unreserved (a letter, a digit or `-._~`), reserved
    /// (`:/?#[]@!$&'()*+,;=`) or the `%` of percent-encoding.
    private static func isTargetByte(_ byte: UInt8) -> Bool {
        if isAlphanumeric(byte) { return true }
        return switch byte {
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: ":"),
            UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: "#"), UInt8(ascii: "["), UInt8(ascii: "]"),
            UInt8(ascii: "@"), UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&")...UInt8(ascii: ","),
            UInt8(ascii: ";"), UInt8(ascii: "="), UInt8(ascii: "%"):
            true
        default: false
        }
    }
}
