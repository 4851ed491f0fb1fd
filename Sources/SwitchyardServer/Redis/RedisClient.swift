import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A small Redis client on SwiftNIO: a fixed pool of pipelined connections, `AUTH` and `SELECT`
/// from the URL, a timeout on every command, and reconnection with exponential backoff, so a
/// Redis that comes back is picked up without a restart.
public final class RedisClient: Sendable {
    /// Where and how to connect, from `redis://[user:password@]host:port[/db]`.
    public struct Endpoint: Sendable, Equatable {
        /// Host.
        public var host: String
        /// Port.
        public var port: Int
        /// `AUTH` user, if any.
        public var user: String?
        /// `AUTH` password, if any.
        public var password: String?
        /// Database index for `SELECT`.
        public var database: Int

        /// Parses a `redis://` URL.
        public init(url: String) throws(RedisError) {
            guard let c = URLComponents(string: url), c.scheme == "redis", let host = c.host, !host.isEmpty else {
                throw .invalidURL("expected redis://[user:password@]host:port[/db]")
            }
            self.host = host
            self.port = c.port ?? 6379
            self.user = c.user.flatMap { $0.isEmpty ? nil : $0 }
            self.password = c.password
            let path = c.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            guard path.isEmpty || Int(path) != nil else { throw .invalidURL("the database must be a number") }
            self.database = Int(path) ?? 0
        }
    }

    enum Slot {
        case empty
        case connecting(EventLoopFuture<any Channel>)
        case connected(any Channel)
        case backingOff(until: NIODeadline, failures: Int)
    }

    final class LockedSlot: Sendable {
        let state = Mutex<Slot>(.empty)
    }

    private let endpoint: Endpoint
    private let slots: [LockedSlot]
    private let next = Atomic<Int>(0)
    private let group: any EventLoopGroup
    private let timeout: TimeAmount

    /// Creates a client; connections open on first use.
    public init(
        endpoint: Endpoint, poolSize: Int = 4, timeout: TimeAmount = .milliseconds(500),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.endpoint = endpoint
        self.slots = (0..<max(poolSize, 1)).map { _ in LockedSlot() }
        self.group = group
        self.timeout = timeout
    }

    /// Sends one command and waits for its reply; an error reply throws `RedisError.server`.
    public func send(_ arguments: [String]) async throws -> RESPValue {
        let slot = slots[next.add(1, ordering: .relaxed).oldValue % slots.count]
        let channel = try await connection(slot)
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        let timeout = self.timeout
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(RedisError.timeout)
            channel.close(promise: nil)
        }
        channel.writeAndFlush((arguments: arguments, promise: promise), promise: nil)
        let value: RESPValue
        do {
            value = try await promise.futureResult.value()
            timer.cancel()
        } catch {
            timer.cancel()
            throw error
        }
        if case .error(let message) = value { throw RedisError.server(message) }
        return value
    }

    /// Closes every connection.
    public func close() async {
        for slot in slots {
            let channel: (any Channel)? = slot.state.withLock { state in
                defer { state = .empty }
                if case .connected(let c) = state { return c }
                return nil
            }
            try? await channel?.close()
        }
    }

    private func connection(_ slot: LockedSlot) async throws -> any Channel {
        enum Plan {
            case use(any Channel)
            case wait(EventLoopFuture<any Channel>)
            case refuse
        }
        let plan: Plan = slot.state.withLock { state in
            switch state {
            case .connected(let channel) where channel.isActive: return .use(channel)
            case .connecting(let future): return .wait(future)
            case .backingOff(let until, _) where NIODeadline.now() < until: return .refuse
            default:
                let future = connect()
                state = .connecting(future)
                return .wait(future)
            }
        }
        switch plan {
        case .use(let channel): return channel
        case .refuse: throw RedisError.unavailable("backing off after connection failures")
        case .wait(let future):
            do {
                let channel = try await future.value()
                slot.state.withLock { state in
                    if case .connecting = state { state = .connected(channel) }
                }
                return channel
            } catch {
                slot.state.withLock { state in
                    var failures = 1
                    if case .backingOff(_, let previous) = state { failures = previous + 1 }
                    // 50 ms, 100 ms, … capped at 5 s: a Redis that comes back is used again soon.
                    let delay = min(50 * (1 << min(failures, 7)), 5000)
                    state = .backingOff(until: .now() + .milliseconds(Int64(delay)), failures: failures)
                }
                throw RedisError.unavailable("\(error)")
            }
        }
    }

    private func connect() -> EventLoopFuture<any Channel> {
        let endpoint = self.endpoint
        let timeout = self.timeout
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RedisConnectionHandler())
                }
            }
        return bootstrap.connect(host: endpoint.host, port: endpoint.port).flatMap { channel in
            var setup: [[String]] = []
            if let password = endpoint.password {
                setup.append(endpoint.user.map { ["AUTH", $0, password] } ?? ["AUTH", password])
            }
            if endpoint.database != 0 { setup.append(["SELECT", String(endpoint.database)]) }
            let replies = setup.map { command -> EventLoopFuture<RESPValue> in
                let promise = channel.eventLoop.makePromise(of: RESPValue.self)
                channel.writeAndFlush((arguments: command, promise: promise), promise: nil)
                return promise.futureResult
            }
            return EventLoopFuture.whenAllSucceed(replies, on: channel.eventLoop).flatMapThrowing { values in
                for case .error(let message) in values {
                    channel.close(promise: nil)
                    throw RedisError.server(message)
                }
                return channel
            }
        }
    }
}
