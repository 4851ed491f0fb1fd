import NIOCore

/// Pipelines commands on one connection: each write queues its promise, each reply completes
/// the oldest one. Closing fails everything still waiting.
final class RedisConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = (arguments: [String], promise: EventLoopPromise<RESPValue>)
    typealias OutboundOut = ByteBuffer

    private var pending = CircularBuffer<EventLoopPromise<RESPValue>>()
    private var buffer = ByteBuffer()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let command = unwrapOutboundIn(data)
        pending.append(command.promise)
        var out = context.channel.allocator.buffer(capacity: 64)
        RESPParser.encode(command.arguments, into: &out)
        context.write(wrapOutboundOut(out), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        do {
            while let value = try RESPParser.parse(&buffer) {
                guard let promise = pending.popFirst() else { throw RedisError.protocolViolation("unexpected reply") }
                promise.succeed(value)
            }
            buffer.discardReadBytes()
        } catch {
            failAll(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RedisError.unavailable("connection closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        while let promise = pending.popFirst() { promise.fail(error) }
    }
}
