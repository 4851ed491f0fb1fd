import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import SwitchyardServer

@Suite("Client connection watch")
struct ClientWatchTests {
    static func connected() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    @Test("A close cancels the registered work once; released work is forgotten, not cancelled")
    func closeAndRelease() throws {
        let watch = ClientWatch()
        let cancels = Atomic<Int>(0)
        let channel = try Self.connected()
        let first = watch.watch(channel) { cancels.add(1, ordering: .relaxed) }
        watch.release(channel, token: first)
        #expect(watch.count == 0)
        watch.closed(channel)
        #expect(cancels.load(ordering: .relaxed) == 0, "released work must not be cancelled")

        _ = watch.watch(channel) { cancels.add(1, ordering: .relaxed) }
        watch.closed(channel)
        watch.closed(channel)
        #expect(cancels.load(ordering: .relaxed) == 1)
        #expect(watch.count == 0)
    }

    @Test("A stale release leaves the next request's entry; a closed channel cancels at once")
    func staleAndClosed() throws {
        let watch = ClientWatch()
        let cancels = Atomic<Int>(0)
        let channel = try Self.connected()
        let old = watch.watch(channel) {}
        _ = watch.watch(channel) { cancels.add(1, ordering: .relaxed) }
        watch.release(channel, token: old)
        #expect(watch.count == 1)
        watch.closed(channel)
        #expect(cancels.load(ordering: .relaxed) == 1)

        _ = try channel.finish()
        _ = watch.watch(channel) { cancels.add(1, ordering: .relaxed) }
        #expect(cancels.load(ordering: .relaxed) == 2, "work registered on a closed connection is cancelled at once")
        #expect(watch.count == 0)
    }
}

extension ClientWatchTests {
    @Test("A client that stops sending cancels the work now and any registered before the close")
    func inputClosed() throws {
        let watch = ClientWatch()
        let cancels = Atomic<Int>(0)
        let channel = try Self.connected()
        _ = watch.watch(channel) { cancels.add(1, ordering: .relaxed) }
        watch.clientLeft(channel)
        #expect(cancels.load(ordering: .relaxed) == 1)
        let late = watch.watch(channel) { cancels.add(1, ordering: .relaxed) }
        #expect(cancels.load(ordering: .relaxed) == 2)
        watch.release(channel, token: late)
        #expect(watch.count == 1, "the mark stays until the connection closes")
        watch.closed(channel)
        #expect(watch.count == 0)
        #expect(cancels.load(ordering: .relaxed) == 2)
    }
}
