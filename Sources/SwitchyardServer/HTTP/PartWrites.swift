import NIOCore

extension Channel {
    /// Writes `part` (flushing when `flush`), wrapped in `NIOAny` here, where its type is known, so
    /// the wrapping's type checks are settled when compiling. `Channel.write` wraps it inside
    /// SwiftNIO, generically, with a dynamic cast per check, on every write. Off the channel's event
    /// loop it falls back to `Channel.write`.
    @inline(__always)
    func write<Part: Sendable>(part: Part, flush: Bool = false, promise: EventLoopPromise<Void>? = nil) {
        guard eventLoop.inEventLoop else {
            return flush ? writeAndFlush(part, promise: promise) : write(part, promise: promise)
        }
        let wrapped = NIOAny(part)
        if flush {
            pipeline.syncOperations.writeAndFlush(wrapped, promise: promise)
        } else {
            pipeline.syncOperations.write(wrapped, promise: promise)
        }
    }
}
