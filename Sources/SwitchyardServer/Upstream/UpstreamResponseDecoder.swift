import NIOCore
import NIOHTTP1

/// NIO's HTTP/1 answer decoder, reached by reads only. NIO's client pipeline
/// (`addHTTPClientHandlers`) also puts the decoder on the write path, so that it sees each request
/// head go by and knows which answer has no body (one to `HEAD` or `CONNECT`); every request part
/// then passes through `ByteToMessageHandler`'s generic write code. Here the exchange handler
/// tells the decoder each head it sends (`UpstreamExchangeHandler.start`), and the request goes
/// out as bytes (`ByteBuffer.writeRequestHead`).
struct UpstreamResponseDecoder: ByteToMessageDecoder {
    typealias InboundOut = HTTPClientResponsePart

    /// The decoder: a class, shared with the exchange handler that tells it the heads.
    let decoder: HTTPResponseDecoder

    /// The handlers of an upstream connection after TLS: the answer decoder and the exchange
    /// handler. (The request head is checked where it is built, `RequestHeadRules`, and written
    /// by the connection.)
    static func addHandlers(to pipeline: ChannelPipeline.SynchronousOperations) throws {
        let decoder = HTTPResponseDecoder()
        try pipeline.addHandlers([
            ByteToMessageHandler(UpstreamResponseDecoder(decoder: decoder)), UpstreamExchangeHandler(heads: decoder),
        ])
    }

    func decoderAdded(context: ChannelHandlerContext) {
        decoder.decoderAdded(context: context)
    }

    func decoderRemoved(context: ChannelHandlerContext) {
        decoder.decoderRemoved(context: context)
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        try decoder.decode(context: context, buffer: &buffer)
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decoder.decodeLast(context: context, buffer: &buffer, seenEOF: seenEOF)
    }
}
