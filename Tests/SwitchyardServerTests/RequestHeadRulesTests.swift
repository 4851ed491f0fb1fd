import NIOHTTP1
import Testing

@testable import SwitchyardServer

@Suite("Request head rules, byte by byte")
struct RequestHeadRulesTests {
    /// RFC 9110's `tchar` and RFC 3986's URL characters, written out as the RFCs list them.
    static let letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    static let token = Set((letters + "!#$%&'*+-.^_`|~").utf8)
    static let target = Set((letters + "-._~" + ":/?#[]@" + "!$&'()*+,;=" + "%").utf8)

    static func head(name: String = "x-key", value: String = "v", target: String = "/") -> UpstreamRequestHead {
        UpstreamRequestHead(method: .POST, target: target, fields: [(name, value)])
    }

    @Test("A name is a token and a target a URL exactly when each of their bytes is in the RFC's set")
    func everyByte() {
        for byte in UInt8.min...UInt8.max {
            let text = String(decoding: [byte], as: UTF8.self)
            guard text.utf8.count == 1 else { continue }  // not a byte UTF-8 can hold alone
            let name = RequestHeadRules.problem(Self.head(name: "x" + text))
            #expect((name == nil) == Self.token.contains(byte), "name byte \(byte)")
            let target = RequestHeadRules.problem(Self.head(target: "/" + text))
            #expect((target == nil) == Self.target.contains(byte), "target byte \(byte)")
            let value = RequestHeadRules.problem(Self.head(value: "a" + text))
            #expect((value == nil) == (byte == 0x09 || (byte >= 0x20 && byte != 0x7F)), "value byte \(byte)")
        }
        #expect(RequestHeadRules.problem(Self.head(name: "")) != nil, "an empty name is no token")
    }

    @Test("A value's bytes, tested eight at a time, pass exactly when each one may be in a value")
    func valueWords() {
        func allowed(_ byte: UInt8) -> Bool { byte == 0x09 || (byte >= 0x20 && byte != 0x7F) }
        let plain = Array("Bearer sk-abcdefghij-0123".utf8)
        for byte in UInt8.min...UInt8.max {
            for position in plain.indices {
                var bytes = plain
                bytes[position] = byte
                let passed = bytes.withUnsafeBufferPointer(RequestHeadRules.areValueBytes)
                #expect(passed == allowed(byte), "byte \(byte) at \(position)")
            }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let bytes = (0..<Int.random(in: 0...40, using: &generator)).map { _ in
                // Mostly bytes a value may hold, now and then a control byte, a tab or a delete.
                Bool.random(using: &generator)
                    ? UInt8.random(in: 0x20...0xFF, using: &generator)
                    : [0x09, 0x7F, 0x00, 0x1F, 0x41].randomElement()!
            }
            #expect(bytes.withUnsafeBufferPointer(RequestHeadRules.areValueBytes) == bytes.allSatisfy(allowed))
        }
    }
}
