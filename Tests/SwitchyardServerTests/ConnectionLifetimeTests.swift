import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import SwitchyardCore
import Testing

@testable import SwitchyardServer

/// When a client connection closes on the gateway's side: the pure state machine, then the codec
/// whose guard carries it out, on an `EmbeddedChannel` with its own clock; and the codec's answer
/// to a request the decoder cannot parse.
@Suite("Client connection lifetime: idle timeout and graceful shutdown")
struct ConnectionLifetimeTests {
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test("An idle connection closes at the timeout; each part read and each answer ended restart it")
    func idle() {
        var lifetime = ConnectionLifetime(timeout: .seconds(10))
        #expect(lifetime.activated(now: Self.start) == .arm(Self.start + .seconds(10)))
        lifetime.read(head: true, end: false, now: Self.start + .seconds(4))
        // A request still arriving is idle time: the timer is moved on to its last part plus the timeout.
        #expect(lifetime.timerFired(now: Self.start + .seconds(10)) == .arm(Self.start + .seconds(14)))
        lifetime.read(head: false, end: true, now: Self.start + .seconds(12))
        // Read whole and being answered: the connection waits for the answer, however long.
        #expect(lifetime.timerFired(now: Self.start + .seconds(30)) == .none)
        #expect(lifetime.answered(now: Self.start + .seconds(31)) == .arm(Self.start + .seconds(41)))
        #expect(lifetime.timerFired(now: Self.start + .seconds(40)) == .arm(Self.start + .seconds(41)))
        #expect(lifetime.timerFired(now: Self.start + .seconds(41)) == .close)
    }

    @Test("Graceful shutdown closes an idle connection at once and a busy one after its answers")
    func quiesce() {
        var idle = ConnectionLifetime(timeout: .seconds(10))
        _ = idle.activated(now: Self.start)
        #expect(idle.quiesce() == .close)

        var busy = ConnectionLifetime(timeout: .seconds(10))
        _ = busy.activated(now: Self.start)
        busy.read(head: true, end: true, now: Self.start)
        busy.read(head: true, end: true, now: Self.start)  // pipelined
        #expect(busy.quiesce() == .none)
        #expect(busy.answered(now: Self.start) == .none)
        #expect(busy.answered(now: Self.start) == .close)
    }

    @Test("A closed connection's timer does nothing")
    func closed() {
        var lifetime = ConnectionLifetime(timeout: .seconds(1))
        _ = lifetime.activated(now: Self.start)
        lifetime.deactivated()
        #expect(lifetime.timerFired(now: Self.start + .seconds(5)) == .none)
    }

    static func guarded() throws -> EmbeddedChannel {
        var limits = ListenerSettings()
        limits.idleTimeoutSeconds = 2
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            HTTP1ServerCodec(secure: false, limits: limits, registry: ConnectionRegistry()))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    @Test("The guard closes an idle connection when the idle timer fires, and not before")
    func guardClosesIdle() throws {
        let channel = try Self.guarded()
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1_900))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive)
    }

    @Test("The guard closes a busy connection on shutdown only once its answer's end is written")
    func guardDrains() throws {
        let channel = try Self.guarded()
        try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(channel.isActive, "a request read whole waits for its answer, past the idle timeout")
        try channel.writeOutbound(AnswerPart.head(HTTPResponse(status: .ok)))
        #expect(channel.isActive)
        try channel.writeOutbound(AnswerPart.end(nil))
        #expect(!channel.isActive)
    }

    @Test("A request refused by the listener limits is passed on stripped to its method, with the refusal")
    func guardRefuses() throws {
        let channel = try Self.guarded()
        let long = "/v1/models?" + String(repeating: "a", count: ListenerSettings().maxRequestLineBytes)
        try channel.writeInbound(
            HTTPServerRequestPart.head(
                HTTPRequestHead(version: .http1_1, method: .GET, uri: long, headers: ["authorization": "Bearer sk-x"])))
        guard case .head(let head, let refusal) = try channel.readInbound(as: ClientRequestPart.self) else {
            Issue.record("no head passed on")
            return
        }
        #expect(refusal == .requestLine)
        #expect(head.path == "/" && head.headerFields.isEmpty && head.method == .get)
    }

    @Test("A request the decoder cannot parse is answered 400 and `connection: close`, unless an answer is open")
    func malformed() throws {
        let idle = try Self.guarded()
        idle.pipeline.fireErrorCaught(HTTPParserError.invalidVersion)
        let answer = try #require(try idle.readOutbound(as: ByteBuffer.self))
        #expect(String(buffer: answer) == "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")

        let busy = try Self.guarded()
        try busy.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")))
        try busy.writeInbound(HTTPServerRequestPart.end(nil))
        try busy.writeOutbound(AnswerPart.head(HTTPResponse(status: .ok)))
        _ = try busy.readOutbound(as: ByteBuffer.self)
        busy.pipeline.fireErrorCaught(HTTPParserError.invalidVersion)
        #expect(try busy.readOutbound(as: ByteBuffer.self) == nil, "an open answer is not interleaved")
    }
}
