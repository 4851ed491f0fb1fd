import NIOCore
import SwitchyardCore

/// Relays a streamed upstream answer to the client chunk by chunk, converting on the way, and ends
/// it.
///
/// Backpressure holds both ways: the next upstream chunk is read only after the previous one was
/// written to the client. A client that goes away cancels the request's task, and so the upstream
/// read, at once; an upstream that fails mid-stream ends the stream with an error event in the client API's
/// shape, never a silent truncation.
struct StreamRelay {
    /// How a relay ended.
    enum Ending: Sendable, Equatable {
        /// The upstream finished and so did the stream.
        case completed
        /// The upstream broke off or sent what could not be converted; `event` tells the client.
        case upstreamFailed(GatewayError, event: ByteBuffer)
        /// The client went away.
        case clientGone
    }

    /// Where the converted stream goes.
    let writer: ClientAnswerWriter
    /// Counts upstream failures.
    let metrics: GatewayMetrics
    /// How a failure mid-stream is told to the client.
    let errorShape: ErrorShape

    /// Pulls upstream chunks, converts them and writes them, until either side ends. The stream's
    /// end is left to `finish`, so the request can be settled before the client sees it end.
    /// `transcoder` keeps what the stream said about its usage.
    /// `finished` runs once the upstream's answer is complete and converted, before its last
    /// bytes are written.
    func relay(
        _ body: any AsyncSequence<ByteBuffer, any Error> & Sendable, transcoder: inout any ChatStreamTranscoder,
        record: inout RequestRecord, finished: (any ChatStreamTranscoder) async -> Void
    ) async -> Ending {
        // The head is written, not flushed: it leaves with the first chunk if that is already
        // there, or alone once the relay waits for the provider.
        writer.flushSoon()
        return await pump(body, transcoder: &transcoder, record: &record, finished: finished)
    }

    /// Ends the stream as `ending` says: its end, after an error event when the upstream failed;
    /// a client that went away has its connection closed. Returns how the stream ended for the
    /// client.
    func finish(_ ending: Ending) async -> Ending {
        do {
            switch ending {
            case .completed:
                try await writer.endStream()
            case .upstreamFailed(_, let event):
                try await writer.chunk(event)
                try await writer.endStream()
            case .clientGone:
                writer.channel.close(promise: nil)
            }
        } catch {
            writer.channel.close(promise: nil)
            // A client that had the whole answer (its last event included) and hung up before
            // the chunked terminator was written got its answer: the stream completed.
            if case .completed = ending { return .completed }
            return .clientGone
        }
        return ending
    }

    private func pump(
        _ body: any AsyncSequence<ByteBuffer, any Error> & Sendable, transcoder: inout any ChatStreamTranscoder,
        record: inout RequestRecord, finished: (any ChatStreamTranscoder) async -> Void
    ) async -> Ending {
        var firstBytes = true
        var reader = BodyReader(body)
        while true {
            let wasDelivered = transcoder.delivered
            let chunk: ByteBuffer?
            do {
                chunk = try await reader.next()
                if chunk == nil { record.upstreamEnded() }
            } catch {
                record.upstreamEnded()
                if Task.isCancelled { return await gone(transcoder, finished: finished) }
                let failure = TransportError.classify(error)
                metrics.upstreamError(provider: record.provider, kind: failure.kind.rawValue)
                let error = GatewayError.badGateway(
                    "The upstream stream from `\(record.provider)` broke off (\(failure.message)).")
                return failed(error, transcoder: &transcoder)
            }
            let output: ByteBuffer?
            do throws(GatewayError) {
                if let chunk {
                    output = try transcoder.transcode(chunk)
                } else {
                    output = try transcoder.finish()
                }
            } catch {
                metrics.upstreamError(provider: record.provider, kind: "decode")
                return failed(error, transcoder: &transcoder)
            }
            if chunk == nil { await finished(transcoder) }
            if let output, output.readableBytes > 0 {
                record.answered(output)
                if firstBytes {
                    firstBytes = false
                    record.firstBytes(metrics: metrics)
                }
                do {
                    try await writer.chunk(output)
                } catch {
                    return wasDelivered ? .completed : .clientGone
                }
            }
            if chunk == nil { return .completed }
        }
    }

    /// The ending of a stream whose client went away while the upstream was still sending: a
    /// client that had the stream's last event had the whole answer, which completed.
    private func gone(
        _ transcoder: any ChatStreamTranscoder, finished: (any ChatStreamTranscoder) async -> Void
    ) async -> Ending {
        guard transcoder.delivered else { return .clientGone }
        await finished(transcoder)
        return .completed
    }

    /// The ending of a stream the upstream broke: the transcoder's own closing events, or the
    /// front door's error event.
    private func failed(_ error: GatewayError, transcoder: inout any ChatStreamTranscoder) -> Ending {
        .upstreamFailed(error, event: transcoder.failure(error) ?? errorShape.streamEvent(error))
    }
}
