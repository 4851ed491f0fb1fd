import NIOCore
import Testing

@testable import SwitchyardServer

/// The streamed body's buffer without tasks or sockets: parts in order, the connection stopped at
/// the high watermark and restarted below the low one, the end or failure after the parts, a
/// waiting reader resumed, and a reader that leaves or is cancelled told the connection once.
@Suite("Streamed body state machine")
struct StreamedBodyStateMachineTests {
    typealias Machine = StreamedBodyStateMachine

    static func part(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    /// The reader takes the part `text`, nothing more happening.
    static func taken(_ text: String) -> Machine.NextAction {
        .deliver(.part(part(text)), readMore: false, done: false)
    }

    @Test("Parts wait in order; reading stops at the high watermark and resumes below the low one")
    func watermarks() {
        var body = Machine(low: 2, high: 4)
        for index in 0..<3 { #expect(body.yield(Self.part("\(index)")) == .buffered(keepReading: true)) }
        #expect(body.yield(Self.part("3")) == .buffered(keepReading: false))
        #expect(body.yield(Self.part("4")) == .buffered(keepReading: false), "parts past the watermark are kept")
        for index in 0..<3 { #expect(body.next(cancelled: false, wait: true) == Self.taken("\(index)")) }
        // One part waits: below the low watermark, the connection is told to read again, once.
        #expect(body.next(cancelled: false, wait: true) == .deliver(.part(Self.part("3")), readMore: true, done: false))
        #expect(body.next(cancelled: false, wait: true) == Self.taken("4"))
        #expect(body.next(cancelled: false, wait: true) == .suspend)
    }

    @Test("Below the high watermark the connection is never told to read again: it was never stopped")
    func noRestartWithoutStop() {
        var body = Machine(low: 2, high: 4)
        _ = body.yield(Self.part("a"))
        _ = body.yield(Self.part("b"))
        #expect(body.next(cancelled: false, wait: true) == Self.taken("a"))
        #expect(body.next(cancelled: false, wait: true) == Self.taken("b"))
    }

    @Test("The end and a failure come after the parts that arrived before them, and only once")
    func endAfterParts() {
        var body = Machine(low: 1, high: 8)
        _ = body.yield(Self.part("a"))
        #expect(body.finish(nil) == nil, "the reader is not waiting: the end is kept")
        #expect(body.yield(Self.part("late")) == .dropped)
        #expect(body.next(cancelled: false, wait: true) == Self.taken("a"))
        #expect(body.next(cancelled: false, wait: true) == .deliver(.end, readMore: false, done: true))
        #expect(body.next(cancelled: false, wait: true) == .deliver(.end, readMore: false, done: false))
        #expect(body.readerLeft() == (tell: false, resume: false))

        var failing = Machine(low: 1, high: 8)
        _ = failing.yield(Self.part("a"))
        let error = TransportError(.protocolViolation, "cut")
        #expect(failing.finish(error) == nil)
        #expect(failing.finish(nil) == nil, "a second end is ignored")
        #expect(failing.next(cancelled: false, wait: true) == Self.taken("a"))
        #expect(failing.next(cancelled: false, wait: true) == .deliver(.failure(error), readMore: false, done: true))
    }

    @Test("A waiting reader is handed the next part, or the end, directly")
    func waitingReader() {
        var body = Machine(low: 1, high: 2)
        #expect(body.next(cancelled: false, wait: true) == .suspend)
        #expect(body.yield(Self.part("a")) == .resume(Self.part("a")))
        #expect(body.next(cancelled: false, wait: true) == .suspend)
        #expect(body.finish(nil) == .end)
        #expect(body.readerDone)
        #expect(body.readerLeft() == (tell: false, resume: false), "the reader took the end: nothing to tell")
    }

    @Test("Asking without waiting changes nothing: a part yielded next is buffered, not handed to nobody")
    func askWithoutWaiting() {
        var body = Machine(low: 1, high: 2)
        #expect(body.next(cancelled: false, wait: false) == .suspend)
        #expect(body.yield(Self.part("a")) == .buffered(keepReading: true))
        #expect(body.finish(nil) == nil)
        #expect(body.next(cancelled: false, wait: false) == Self.taken("a"))
    }

    @Test("A cancelled reader drops what waits and tells the connection once")
    func cancelled() {
        var body = Machine(low: 1, high: 2)
        _ = body.yield(Self.part("a"))
        #expect(body.next(cancelled: true, wait: true) == .deliver(.cancelled, readMore: false, done: true))
        #expect(body.yield(Self.part("b")) == .dropped)
        #expect(body.finish(nil) == nil)
        #expect(body.readerLeft() == (tell: false, resume: false))

        var waiting = Machine(low: 1, high: 2)
        #expect(waiting.next(cancelled: false, wait: true) == .suspend)
        #expect(waiting.readerLeft() == (tell: true, resume: true), "the suspended reader is resumed, cancelled")
        #expect(waiting.readerLeft() == (tell: false, resume: false))
    }

    @Test("A reader dropped before the end tells the connection; what waits is dropped")
    func readerDropped() {
        var body = Machine(low: 1, high: 2)
        _ = body.yield(Self.part("a"))
        _ = body.yield(Self.part("b"))
        #expect(body.readerLeft() == (tell: true, resume: false))
        #expect(body.yield(Self.part("c")) == .dropped)
        #expect(body.next(cancelled: false, wait: true) == .deliver(.end, readMore: false, done: false))
    }
}
