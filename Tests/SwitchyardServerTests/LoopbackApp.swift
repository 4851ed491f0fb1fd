import Hummingbird
import Logging

/// A Hummingbird app serving a test router on a free loopback port, until stopped.
struct LoopbackApp: Sendable {
    let port: Int
    private let task: Task<Void, any Error>

    /// Starts `router` and returns once it listens.
    static func start(_ router: Router<BasicRequestContext>, label: String) async -> LoopbackApp {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: label)
        logger.logLevel = .error
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let task = Task { try await app.run() }
        var iterator = stream.makeAsyncIterator()
        return LoopbackApp(port: await iterator.next() ?? 0, task: task)
    }

    /// Stops the app and waits for it.
    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}
