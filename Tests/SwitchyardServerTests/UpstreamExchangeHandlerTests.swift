import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHTTP1
import SwitchyardCore
import Testing

@testable import SwitchyardServer

/// The upstream connection's handler on an `EmbeddedChannel`: response parts fed one read at a
/// time, NIO's read requests made by hand, and what reaches the socket (reads) and the pool seen.
@Suite("Upstream exchange handler on an embedded channel")
struct UpstreamExchangeHandlerTests {
    /// Counts the read requests that get through to the socket.
    final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = Any
        var reads = 0

        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    /// A connection on an embedded channel, with its read counter and how often it was pooled.
    struct Harness {
        let channel = EmbeddedChannel()
        let counter = ReadCounter()
        let connection: UpstreamConnection
        let pooled = NIOLockedValueBox(0)

        init() throws {
            try channel.pipeline.syncOperations.addHandler(counter)
            let handler = UpstreamExchangeHandler()
            try channel.pipeline.syncOperations.addHandler(handler)
            let pooled = self.pooled
            connection = UpstreamConnection(channel: channel, handler: handler) { _ in
                pooled.withLockedValue { $0 += 1 }
            }
        }

        static let timeouts = UpstreamTimeouts(connectSeconds: 1, firstByteSeconds: 2, idleSeconds: 3, totalSeconds: 10)

        /// Starts an exchange; the request's parts are written to the channel.
        func execute(whole: Int? = nil) -> EventLoopFuture<UpstreamResponse> {
            connection.execute(
                head: UpstreamRequestHead(method: .POST, target: "/v1/chat/completions", fields: []), body: nil,
                timeouts: Self.timeouts, whole: whole)
        }

        /// NIO delivers `parts` in one read, then asks to read again (auto-read).
        func deliver(_ parts: [HTTPClientResponsePart]) throws {
            for part in parts { try channel.writeInbound(part) }
            channel.pipeline.read()
        }

        /// What `future` completed with; an embedded loop never waits, so a future still pending
        /// when the test looks is a failure of its own.
        static func completed<T: Sendable>(_ future: EventLoopFuture<T>) throws -> T {
            let box = NIOLockedValueBox<Result<T, any Error>?>(nil)
            future.whenComplete { result in box.withLockedValue { $0 = result } }
            guard let result = box.withLockedValue({ $0 }) else { throw Pending() }
            return try result.get()
        }

        struct Pending: Error {}

        /// A harness whose first exchange has received `parts`, and that exchange's response.
        static func started(after parts: [HTTPClientResponsePart]) throws -> (Harness, UpstreamResponse) {
            let harness = try Harness()
            let future = harness.execute()
            try harness.deliver(parts)
            return (harness, try completed(future))
        }

        var reads: Int { counter.reads }
        var timesPooled: Int { pooled.withLockedValue { $0 } }
    }

    static let head = HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok))
    static func bodies(_ count: Int) -> [HTTPClientResponsePart] {
        (0..<count).map { .body(ByteBuffer(string: "data: \($0)\n\n")) }
    }

    @Test(
        "Body parts past the consumer's buffer and the end in one read: the connection is pooled reading, and the next answer is read"
    )
    func burstWithEnd() throws {
        let (harness, response) = try Harness.started(after: [Self.head])
        #expect(response.status == 200)
        let readsBefore = harness.reads
        // Nobody reads the body yet: its buffer passes the high watermark within this read.
        try harness.deliver(Self.bodies(12) + [.end(nil)])
        #expect(harness.timesPooled == 1)
        #expect(harness.reads == readsBefore + 1, "the read after the answer's end must reach the socket")

        let second = harness.execute(whole: 1 << 20)
        try harness.deliver([Self.head, .body(ByteBuffer(string: "ok")), .end(nil)])
        #expect(String(buffer: try #require(try Harness.completed(second).body as? WholeBody).result.get()) == "ok")
        #expect(harness.timesPooled == 2)
        withExtendedLifetime(response) {}
        _ = try harness.channel.finish()
    }

    @Test("A full consumer holds the socket's reads back until it asks for more")
    func heldUntilDemand() throws {
        let (harness, response) = try Harness.started(after: [Self.head])
        try harness.deliver(Self.bodies(9))
        let held = harness.reads
        harness.channel.pipeline.read()
        #expect(harness.reads == held, "no read while the consumer is full")
        let handler = try harness.channel.pipeline.syncOperations.handler(type: UpstreamExchangeHandler.self)
        handler.produceMore(exchange: 1)
        #expect(harness.reads == held + 1, "the held read goes out when the consumer wants more")
        try harness.deliver([.end(nil)])
        #expect(harness.timesPooled == 1 && handler.isReusable)
        withExtendedLifetime(response) {}
        _ = try harness.channel.finish()
    }

    @Test("A consumer that leaves between reads closes the connection; it is never pooled")
    func consumerLeaves() throws {
        let (harness, response) = try Harness.started(after: [Self.head] + Self.bodies(3))
        let handler = try harness.channel.pipeline.syncOperations.handler(type: UpstreamExchangeHandler.self)
        handler.consumerTerminated(exchange: 1)
        #expect(!harness.channel.isActive)
        #expect(harness.timesPooled == 0)
        #expect(throws: TransportError.self) { try Harness.completed(harness.execute()) }
        withExtendedLifetime(response) {}
    }

    @Test("No head in time: the exchange fails with a timeout and the connection closes")
    func headTimeout() throws {
        let harness = try Harness()
        let future = harness.execute()
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(throws: TransportError(.timeout, "no response head")) { try Harness.completed(future) }
        #expect(!harness.channel.isActive)
    }
    @Test(
        "Through the connection's own codec: each request is encoded, its answer decoded from bytes in any pieces, and an answer nobody asked for closes the connection"
    )
    func ownCodec() throws {
        let channel = EmbeddedChannel()
        try UpstreamResponseDecoder.addHandlers(to: channel.pipeline.syncOperations)
        let handler = try channel.pipeline.syncOperations.handler(type: UpstreamExchangeHandler.self)
        let pooled = NIOLockedValueBox(0)
        let connection = UpstreamConnection(channel: channel, handler: handler) { _ in
            pooled.withLockedValue { $0 += 1 }
        }
        let answer = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"
        for round in 1...2 {
            let future = connection.execute(
                head: UpstreamRequestHead(
                    method: .POST, target: "/v1/chat/completions", fields: [("content-length", "2")]),
                body: ByteBuffer(string: "{}"), timeouts: Harness.timeouts, whole: 1 << 20)
            var written = ByteBuffer()
            while var part = try channel.readOutbound(as: ByteBuffer.self) { written.writeBuffer(&part) }
            #expect(String(buffer: written) == "POST /v1/chat/completions HTTP/1.1\r\ncontent-length: 2\r\n\r\n{}")
            // The answer's bytes one at a time: the decoder knows the request it answers.
            for byte in answer.utf8 { try channel.writeInbound(ByteBuffer(bytes: [byte])) }
            let response = try Harness.completed(future)
            #expect(response.status == 200)
            #expect(String(buffer: try #require(response.body as? WholeBody).result.get()) == "hello")
            #expect(pooled.withLockedValue { $0 } == round)
        }
        try channel.writeInbound(ByteBuffer(string: answer))
        #expect(!channel.isActive, "an answer to no request closes the connection")
    }
}
