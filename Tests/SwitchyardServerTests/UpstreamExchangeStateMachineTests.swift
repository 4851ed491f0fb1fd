import NIOCore
import NIOHTTP1
import SwitchyardCore
import Testing

@testable import SwitchyardServer

/// The upstream exchange state machine without sockets: every way NIO can group an answer's parts
/// into reads, against consumers fast, slow and leaving, must end in a delivered answer or a named
/// failure, with the connection back in its pool idle and reading, or closed. Never a wait.
@Suite("Upstream exchange state machine")
struct UpstreamExchangeStateMachineTests {
    typealias Machine = UpstreamExchangeStateMachine

    static let now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    static let timeouts = UpstreamTimeouts(connectSeconds: 1, firstByteSeconds: 2, idleSeconds: 3, totalSeconds: 10)
    static func head(keepAlive: Bool = true) -> HTTPResponseHead {
        var head = HTTPResponseHead(version: .http1_1, status: .ok)
        if !keepAlive { head.headers.add(name: "connection", value: "close") }
        return head
    }

    /// What the body's consumer does.
    enum Consumer: CaseIterable {
        /// Takes every waiting part as soon as a read has been delivered.
        case fast
        /// Takes one part only when NIO has nothing more to deliver: bursts pile up.
        case slow
        /// Takes one part, then drops the body.
        case leaving
    }

    /// One response part as NIO delivers it.
    enum Part {
        case head, body, end
    }

    /// NIO, the body's buffer (`StreamedBodyStateMachine`, as `StreamedBody` drives it) and a
    /// consumer, driving the machine; every action is carried out as the handler would.
    struct Simulation {
        var machine = Machine()
        var exchange: UInt64 = 0
        /// NIO has a read outstanding: it delivers the next batch.
        var reading = true
        var body = Self.newBody()
        /// Parts in `body` not taken yet.
        var waiting = 0
        var consumed = 0
        var ended = false
        var pooled = false
        var closed = false
        var failure: TransportError?

        mutating func start(whole: Int? = nil) {
            guard case .send(let id, _) = machine.start(whole: whole, timeouts: timeouts, now: now) else {
                Issue.record("the machine refused an exchange on a clean connection")
                return
            }
            exchange = id
            (body, waiting, consumed, ended, pooled) = (Self.newBody(), 0, 0, false, false)
        }

        static func newBody() -> StreamedBodyStateMachine {
            StreamedBodyStateMachine(
                low: UpstreamExchangeHandler.bodyWatermarks.low, high: UpstreamExchangeHandler.bodyWatermarks.high)
        }

        mutating func carry(_ action: Machine.Action) {
            switch action.channel {
            case .none: break
            case .read: reading = true
            case .pool(let read):
                if read { reading = true }
                pooled = true
            case .close: closed = true
            }
            switch action.delivery {
            case .bodyPart(let part):
                // The consumer only takes parts that wait, so it is never suspended here.
                guard case .buffered(let keepReading) = body.yield(part) else {
                    Issue.record("a part was not kept for the consumer")
                    return
                }
                waiting += 1
                if !keepReading { carry(machine.consumerFull()) }
            case .bodyEnd:
                #expect(body.finish(nil) == nil)
                ended = true
            case .whole(_, .success): ended = true
            case .headFailed(let error), .bodyFailed(let error), .whole(_, .failure(let error)): failure = error
            case .streamHead, nil: break
            }
        }

        /// NIO delivers `batch` (one read's parts), then asks to read again as auto-read does.
        mutating func deliver(_ batch: [Part]) {
            reading = false
            for part in batch {
                switch part {
                case .head: carry(machine.head(head(), now: now))
                case .body: carry(machine.body(ByteBuffer(string: "x"), now: now))
                case .end: carry(machine.end())
                }
            }
            if machine.read() { reading = true }
        }

        /// The consumer takes one waiting part; the buffer asks for more below the low watermark.
        mutating func consumeOne() {
            guard case .deliver(.part, let readMore, done: false) = body.next(cancelled: false, wait: false) else {
                Issue.record("a waiting part was not delivered")
                return
            }
            waiting -= 1
            consumed += 1
            if readMore { carry(machine.consumerWantsMore(exchange: exchange, now: now)) }
        }

        /// Runs `batches` to the end with `consumer`; false when nothing can move and the answer
        /// has neither ended nor failed: a stall.
        mutating func run(_ batches: [[Part]], consumer: Consumer) -> Bool {
            var batches = batches[...]
            while true {
                if failure != nil || closed { return true }
                if ended && waiting == 0 { return true }
                let nioCanMove = reading && !batches.isEmpty
                switch consumer {
                case .fast:
                    if nioCanMove {
                        deliver(batches.removeFirst())
                        while waiting > 0 { consumeOne() }
                    } else if waiting > 0 {
                        consumeOne()
                    } else {
                        return false
                    }
                case .slow, .leaving:
                    if nioCanMove {
                        deliver(batches.removeFirst())
                    } else if waiting > 0 {
                        consumeOne()
                        if consumer == .leaving {
                            // The rest of the body is dropped with the reader.
                            let told = body.readerLeft().tell
                            waiting = 0
                            if told { carry(machine.consumerGone(exchange: exchange)) }
                        }
                    } else {
                        return false
                    }
                }
            }
        }
    }

    /// Every way to group `parts` into consecutive reads.
    static func groupings(_ parts: [Part]) -> [[[Part]]] {
        guard let first = parts.first else { return [[]] }
        var all: [[[Part]]] = []
        for rest in groupings(Array(parts.dropFirst())) {
            all.append([[first]] + rest)
            if let next = rest.first { all.append([[first] + next] + rest.dropFirst()) }
        }
        return all
    }

    @Test(
        "Every grouping of head, body parts and end into reads ends delivered or failed, never waiting",
        arguments: Consumer.allCases, [0, 1, 7, 8, 9, 12])
    func everyGrouping(consumer: Consumer, bodyParts: Int) {
        let parts: [Part] = [.head] + Array(repeating: .body, count: bodyParts) + [.end]
        for batches in Self.groupings(parts) {
            var simulation = Simulation()
            simulation.start()
            let finished = simulation.run(batches, consumer: consumer)
            #expect(finished, "stalled: \(batches)")
            guard finished else { return }
            if consumer == .leaving, simulation.failure != nil {
                #expect(simulation.closed && !simulation.pooled)
                #expect(simulation.failure?.kind == .cancelled)
                if case .refuse = simulation.machine.start(whole: nil, timeouts: Self.timeouts, now: Self.now) {
                } else {
                    Issue.record("a closed connection took an exchange")
                }
                continue
            }
            #expect(simulation.failure == nil)
            // A consumer leaving after the end was read drops the parts still waiting.
            #expect(
                consumer == .leaving ? simulation.consumed == min(1, bodyParts) : simulation.consumed == bodyParts,
                "\(batches)")
            // Back in the pool idle, with a read outstanding: the next answer is read at once.
            #expect(simulation.pooled && simulation.machine.isReusable && simulation.reading, "\(batches)")
            simulation.start()
            simulation.deliver([.head, .end])
            #expect(simulation.ended && simulation.pooled, "the next exchange on the connection: \(batches)")
        }
    }

    @Test("The end arriving while the consumer is full pools the connection with the held read released")
    func endWhileFull() {
        var machine = Machine()
        _ = machine.start(whole: nil, timeouts: Self.timeouts, now: Self.now)
        _ = machine.head(Self.head(), now: Self.now)
        _ = machine.body(ByteBuffer(string: "a"), now: Self.now)
        #expect(machine.consumerFull() == Machine.Action(timer: .cancel))
        #expect(machine.read() == false)
        #expect(machine.body(ByteBuffer(string: "b"), now: Self.now).delivery == .bodyPart(ByteBuffer(string: "b")))
        let end = machine.end()
        #expect(end == Machine.Action(timer: .cancel, channel: .pool(read: true), delivery: .bodyEnd))
        #expect(machine.isReusable)
        #expect(machine.read() == true)
    }

    @Test("A late signal from an earlier exchange's consumer does not touch the next exchange")
    func lateSignals() {
        var machine = Machine()
        guard case .send(let first, _) = machine.start(whole: nil, timeouts: Self.timeouts, now: Self.now) else {
            Issue.record("refused")
            return
        }
        _ = machine.head(Self.head(), now: Self.now)
        _ = machine.end()
        _ = machine.start(whole: nil, timeouts: Self.timeouts, now: Self.now)
        _ = machine.head(Self.head(), now: Self.now)
        _ = machine.consumerFull()
        #expect(machine.consumerWantsMore(exchange: first, now: Self.now) == .none)
        #expect(machine.consumerGone(exchange: first) == .none)
        #expect(machine.read() == false, "the second consumer is still full")
    }

    @Test("An answer read whole is handed over at its end, and one past its limit fails")
    func wholeAnswers() {
        var machine = Machine()
        _ = machine.start(whole: 4, timeouts: Self.timeouts, now: Self.now)
        #expect(machine.head(Self.head(), now: Self.now).delivery == nil)
        _ = machine.body(ByteBuffer(string: "ab"), now: Self.now)
        _ = machine.body(ByteBuffer(string: "cd"), now: Self.now)
        #expect(machine.read() == true, "an answer read whole is never held back")
        let end = machine.end()
        #expect(end.delivery == .whole(Self.head(), .success(ByteBuffer(string: "abcd"))))
        #expect(end.channel == .pool(read: false))

        _ = machine.start(whole: 4, timeouts: Self.timeouts, now: Self.now)
        _ = machine.head(Self.head(), now: Self.now)
        let over = machine.body(ByteBuffer(string: "abcde"), now: Self.now)
        #expect(over.channel == .close)
        #expect(
            over.delivery
                == .whole(
                    Self.head(), .failure(TransportError(.protocolViolation, "the upstream answer exceeds 4 bytes"))))
    }

    @Test("An answer with connection: close closes the connection at its end instead of pooling it")
    func closeAtEnd() {
        var machine = Machine()
        _ = machine.start(whole: nil, timeouts: Self.timeouts, now: Self.now)
        _ = machine.head(Self.head(keepAlive: false), now: Self.now)
        #expect(machine.end().channel == .close)
    }

    @Test("A part with no exchange waiting for it (bytes after an answer's end) closes the connection")
    func unsolicitedPart() {
        var machine = Machine()
        let action = machine.head(Self.head(), now: Self.now)
        #expect(action.channel == .close && action.delivery == nil)
        #expect(!machine.isReusable)
        guard case .refuse(let error) = machine.start(whole: nil, timeouts: Self.timeouts, now: Self.now) else {
            Issue.record("a closed connection took an exchange")
            return
        }
        #expect(error.kind == .protocolViolation)
    }

    @Test("Deadlines: the head's, the gap's (re-armed from the last data) and the total's")
    func deadlines() {
        var machine = Machine()
        guard case .send(_, let headDeadline) = machine.start(whole: nil, timeouts: Self.timeouts, now: Self.now)
        else { return }
        #expect(headDeadline == Self.now + .seconds(2))
        #expect(machine.timerFired(now: Self.now + .seconds(1)) == .none, "not due yet")
        #expect(
            machine.timerFired(now: headDeadline).delivery == .headFailed(TransportError(.timeout, "no response head")))

        machine = Machine()
        _ = machine.start(whole: nil, timeouts: Self.timeouts, now: Self.now)
        // The head timer (2 s) fires before the gap (3 s) would end: it stays, and then re-arms.
        #expect(machine.head(Self.head(), now: Self.now).timer == .keep)
        _ = machine.body(ByteBuffer(string: "a"), now: Self.now + .seconds(1))
        #expect(machine.timerFired(now: Self.now + .seconds(2)).timer == .arm(Self.now + .seconds(4)))
        let gap = machine.timerFired(now: Self.now + .seconds(4))
        #expect(gap.delivery == .bodyFailed(TransportError(.timeout, "no data for 3.0s")))
        #expect(gap.channel == .close)

        machine = Machine()
        _ = machine.start(whole: nil, timeouts: Self.timeouts, now: Self.now)
        _ = machine.head(Self.head(), now: Self.now)
        var second = 1
        while second < 9 {
            _ = machine.body(ByteBuffer(string: "a"), now: Self.now + .seconds(Int64(second)))
            #expect(machine.timerFired(now: Self.now + .seconds(Int64(second + 1))).delivery == nil)
            second += 2
        }
        _ = machine.body(ByteBuffer(string: "a"), now: Self.now + .seconds(9))
        #expect(
            machine.timerFired(now: Self.now + .seconds(10)).delivery
                == .bodyFailed(TransportError(.timeout, "the total time limit passed")))
    }

    @Test("No deadline runs while the consumer is full; it restarts when the consumer wants more")
    func noDeadlineWhileFull() {
        var machine = Machine()
        guard case .send(let id, _) = machine.start(whole: nil, timeouts: Self.timeouts, now: Self.now) else { return }
        _ = machine.head(Self.head(), now: Self.now)
        _ = machine.consumerFull()
        #expect(machine.timerFired(now: Self.now + .seconds(5)) == .none)
        let resumed = machine.consumerWantsMore(exchange: id, now: Self.now + .seconds(6))
        #expect(resumed.timer == .arm(Self.now + .seconds(9)))
    }
}
