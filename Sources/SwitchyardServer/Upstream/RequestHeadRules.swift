import NIOHTTP1
import SwitchyardCore

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

    /// Whether every byte of `bytes` may be in a value: the first control byte or delete is
    /// searched for eight bytes at a time (`ByteScan`), and a tab found so is stepped over.
    static func areValueBytes(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let delete = ByteScan.repeated(0x7F)
        var from = 0
        while true {
            let at = ByteScan.first(
                in: bytes, from: from, marks: { ByteScan.bytes(below: 0x20, in: $0) | ByteScan.zeroBytes($0 ^ delete) },
                sought: { $0 < 0x20 || $0 == 0x7F })
            guard at < bytes.count else { return true }
            guard bytes[at] == UInt8(ascii: "\t") else { return false }
            from = at + 1
        }
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
