import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwitchyardCore

/// Relays a streamed upstream answer to the client chunk by chunk, converting on the way.
///
/// Backpressure holds both ways: the next upstream chunk is read only after the previous one
/// was written to the client. A client that goes away cancels the relay (and so the upstream
/// request) at once, even while the upstream is silent; an upstream that fails mid-stream ends
/// the stream with an OpenAI-shaped SSE error event, never a silent truncation.
struct StreamRelay {
    let gateway: Gateway
    let trace: RequestTrace
    let channel: any Channel
    let accounting: TokenAccounting?
    /// The request's concurrency slot, held until the last byte is written.
    let concurrencySlot: ConcurrencyLimit.Slot?

    /// How a relay ended.
    enum Outcome: Sendable {
        case completed
        case upstreamFailed(GatewayError)
        case clientGone
    }

    /// How a relay ended, and what the stream said about its usage.
    struct Result: Sendable {
        var outcome: Outcome
        var usage: TokenUsage?
        var streamedText: String
    }

    /// The streaming response; the relay runs when Hummingbird writes the body.
    func response(upstream: UpstreamResponse, transcoder: any ChatStreamTranscoder) -> Response {
        var headers = ForwardedHeaders.response(from: upstream.headers, contentType: "text/event-stream")
        headers[.cacheControl] = "no-cache"
        ForwardedHeaders.add(accounting?.headers ?? [:], to: &headers)
        let gateway = self.gateway
        let trace = self.trace
        let channel = self.channel
        let accounting = self.accounting
        let slot = concurrencySlot
        return Response(
            status: .ok,
            headers: headers,
            body: ResponseBody { writer in
                defer { withExtendedLifetime(slot) {} }
                gateway.metrics.streamStarted()
                defer { gateway.metrics.streamFinished() }
                let box = WriterBox(writer)
                let result = await ClientPresence.watching(channel) {
                    // The head is written, not flushed. This flush runs after the relay's first
                    // step: if the first chunk was already there, it has left with the head in one
                    // write and nothing is left; if the provider is still thinking, the head goes.
                    channel.eventLoop.execute { channel.flush() }
                    return await Self.relay(
                        upstream.body, transcoder: transcoder, into: box, trace: trace, gateway: gateway)
                }.value
                trace.usage(result.usage)
                // Charged for what was generated, however the stream ended.
                await accounting?.settle(usage: result.usage, streamedText: result.streamedText)
                writer = box.writer
                switch result.outcome {
                case .completed:
                    trace.finish(status: 200)
                    try await writer.finish(nil)
                case .upstreamFailed(let error):
                    trace.finish(status: 200)
                    gateway.logger.warning(
                        "stream failed upstream",
                        metadata: ["provider": "\(trace.provider)", "error": "\(error)"])
                    try await writer.write(Self.errorEvent(error))
                    try await writer.finish(nil)
                case .clientGone:
                    trace.finish(status: 499)
                    throw CancellationError()
                }
            }
        )
    }

    /// Pulls upstream chunks, converts them and writes them, until either side ends.
    static func relay(
        _ body: any AsyncSequence<ByteBuffer, any Error> & Sendable,
        transcoder: any ChatStreamTranscoder,
        into box: WriterBox,
        trace: RequestTrace,
        gateway: Gateway
    ) async -> Result {
        var transcoder = transcoder
        let outcome = await pump(body, transcoder: &transcoder, into: box, trace: trace, gateway: gateway)
        return Result(outcome: outcome, usage: transcoder.usage, streamedText: transcoder.streamedText)
    }

    static func pump(
        _ body: any AsyncSequence<ByteBuffer, any Error> & Sendable,
        transcoder: inout any ChatStreamTranscoder,
        into box: WriterBox,
        trace: RequestTrace,
        gateway: Gateway
    ) async -> Outcome {
        var firstByte = true
        var iterator = body.makeAsyncIterator()
        while true {
            let chunk: ByteBuffer?
            do {
                chunk = try await iterator.next()
                if chunk == nil { trace.upstreamEnded() }
            } catch {
                trace.upstreamEnded()
                if Task.isCancelled { return .clientGone }
                let failure = TransportError.classify(error)
                gateway.metrics.upstreamError(provider: trace.provider, kind: failure.kind.rawValue)
                return .upstreamFailed(
                    .badGateway("The upstream stream from `\(trace.provider)` broke off (\(failure.message)).")
                )
            }
            let output: ByteBuffer?
            do throws(GatewayError) {
                if let chunk {
                    output = try transcoder.transcode(chunk)
                } else {
                    output = try transcoder.finish()
                }
            } catch {
                gateway.metrics.upstreamError(provider: trace.provider, kind: "decode")
                return .upstreamFailed(error)
            }
            if let output, output.readableBytes > 0 {
                if firstByte {
                    firstByte = false
                    trace.firstToken()
                }
                do {
                    try await box.writer.write(output)
                } catch {
                    return .clientGone
                }
            }
            if chunk == nil { return .completed }
        }
    }

    /// `data: {"error":{…}}` followed by a blank line: what OpenAI sends for an error mid-stream,
    /// and what the official SDKs raise as an API error.
    static func errorEvent(_ error: GatewayError) -> ByteBuffer {
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeData(error.jsonBody())
        buffer.writeString("\n\n")
        return buffer
    }
}

/// Hands the response writer to the relay task and back. Only one task uses it at a time: the
/// writer closure waits for the relay task before touching the writer again.
final class WriterBox: @unchecked Sendable {
    var writer: any ResponseBodyWriter
    init(_ writer: any ResponseBodyWriter) { self.writer = writer }
}
