import Logging
import NIOCore
import NIOExtras
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The client-facing listener: NIO's server bootstrap, each accepted connection set up by
/// `GatewayHTTPChannel` and then left to its handlers, with no task held per connection (an idle
/// keep-alive connection costs only its channel). On graceful shutdown it stops accepting and asks
/// every connection to close once its answer is out (idle ones close at once); it returns when the
/// last has closed, and closes them all when cancelled at the end of the grace period.
final class ClientListener: Service, Sendable {
    private let host: String
    private let port: Int
    private let connections: GatewayHTTPChannel
    private let logger: Logger
    private let onBound: @Sendable (Int) async -> Void
    /// The open connections, so cancelling can close them.
    private let open = Mutex<[ObjectIdentifier: any Channel]>([:])

    /// A listener on `host`:`port` (0: any free port) whose connections `connections` sets up;
    /// `onBound` is told the port once it listens.
    init(
        host: String, port: Int, connections: GatewayHTTPChannel, logger: Logger,
        onBound: @escaping @Sendable (Int) async -> Void
    ) {
        self.host = host
        self.port = port
        self.connections = connections
        self.logger = logger
        self.onBound = onBound
    }

    /// Listens until graceful shutdown has drained every connection, or until cancelled.
    func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let quiescing = ServerQuiescingHelper(group: group)
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            // A client that shuts its sending side down is noticed (`RequestDispatcher` cancels its
            // request) instead of the connection closing under the answer.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { [connections] channel in
                self.track(channel)
                return connections.setup(channel: channel)
            }
            .bind(host: host, port: port).get()
        let bound = server.localAddress?.port ?? port
        logger.info("Server started and listening on \(host):\(bound)")
        await onBound(bound)
        let drained = server.eventLoop.makePromise(of: Void.self)
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await drained.futureResult.get()
            } onGracefulShutdown: {
                quiescing.initiateShutdown(promise: drained)
            }
        } onCancel: {
            quiescing.initiateShutdown(promise: drained)
            for channel in open.withLock({ Array($0.values) }) { channel.close(promise: nil) }
        }
    }

    /// Keeps `channel` in the open connections until it closes.
    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        open.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { _ in _ = self.open.withLock { $0.removeValue(forKey: id) } }
    }
}
