import NIOCore
import Testing

@testable import SwitchyardCore

@Suite("Line splitting across chunks")
struct LineSplitterTests {
    @Test("CR, LF and CRLF end lines, a CRLF split across chunks (even by an empty one) ends one line")
    func endings() {
        var splitter = LineSplitter()
        var lines: [String] = []
        for part in ["a\r", "", "\nb\rc\r\n", "\n", "é", "\u{301}x\nd"] {
            lines += splitter.feed(ByteBuffer(string: part))
        }
        #expect(lines == ["a", "b", "c", "", "é\u{301}x"])
        #expect(splitter.finish() == "d")
        #expect(splitter.finish() == nil)
    }

    @Test("A character split between chunks stays whole")
    func splitCharacter() {
        var splitter = LineSplitter()
        let bytes = Array("👋\n".utf8)
        var lines: [String] = []
        for byte in bytes { lines += splitter.feed(ByteBuffer(bytes: [byte])) }
        #expect(lines == ["👋"])
    }
}
