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
}
