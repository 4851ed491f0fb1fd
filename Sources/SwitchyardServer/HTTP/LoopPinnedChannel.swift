import HummingbirdCore
import Logging
import NIOCore

/// A server child channel whose connection task (and so every request on the connection) runs on
/// the connection's own event loop (see `EventLoopExecutor`). Wraps Hummingbird's HTTP/1.1 or TLS
/// channel unchanged otherwise.
struct LoopPinnedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    /// The channel that does the work.
    let base: Base

    /// Sets the connection up as the base channel does.
    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger)
    }

    /// Serves the connection with its event loop as the preferred executor.
    func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopExecutor.of(value.channel.eventLoop)) {
            await base.handle(value: value, logger: logger)
        }
    }
}
