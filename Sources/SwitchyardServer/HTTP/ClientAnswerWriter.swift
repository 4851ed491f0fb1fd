import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Writes one answer straight to the client's channel, from the request's task on that channel's
/// event loop. A whole answer goes out as head, body and end in one flush. A stream's head and
/// chunks are flushed once the task next waits (a flush queued on the loop runs then): what the
/// upstream delivered together leaves in one write, and nothing waits longer than the task's
/// current step. The task waits only while the client reads slower than the gateway writes.
struct ClientAnswerWriter: Sendable {
    /// The client connection.
    let channel: any Channel
    /// Whether the connection closes after this answer (a request body left unread).
    let closesConnection: Bool
    /// The request id every answer echoes (`x-request-id`; also `request-id`, where the Anthropic
    /// SDKs look, when `anthropic`).
    let requestID: String
    /// Whether the answer is to an Anthropic client.
    let anthropic: Bool

    /// The head of an answer with `status` and `headers`, with the fields every answer carries.
    /// The fields are taken, not copied: they are completed in place.
    func head(_ status: HTTPResponse.Status, _ headers: consuming HTTPFields) -> HTTPResponse {
        headers.put(.requestID, requestID)
        if anthropic { headers.put(.anthropicRequestID, requestID) }
        headers.put(.date, HTTPDate.now)
        headers.put(.server, "switchyard")
        if closesConnection { headers.put(.connection, "close") }
        return HTTPResponse(status: status, headerFields: headers)
    }

    /// Writes a whole answer: head, body and end in one flush.
    func whole(_ status: HTTPResponse.Status, _ headers: consuming HTTPFields, body: ByteBuffer) {
        headers.put(.contentLength, String(body.readableBytes))
        channel.write(part: HTTPResponsePart.head(head(status, headers)))
        if body.readableBytes > 0 { channel.write(part: HTTPResponsePart.body(body)) }
        channel.write(part: HTTPResponsePart.end(nil), flush: true)
    }

    /// Starts a streamed answer: its head is written, not flushed.
    func startStream(_ headers: consuming HTTPFields) {
        channel.write(part: HTTPResponsePart.head(head(.ok, headers)))
    }

    /// Writes one chunk of a stream, flushed once the task waits; throws when the client is gone.
    func chunk(_ buffer: ByteBuffer) async throws {
        guard channel.isActive else { throw ChannelError.ioOnClosedChannel }
        guard channel.isWritable else { return try await send(.body(buffer)) }
        channel.write(part: HTTPResponsePart.body(buffer))
        flushSoon()
    }

    /// Flushes the channel once the request's task (on the channel's loop) has finished its
    /// current step.
    func flushSoon() {
        let channel = self.channel
        channel.eventLoop.execute { channel.flush() }
    }

    /// Ends a stream.
    func endStream() async throws {
        try await send(.end(nil))
    }

    /// Writes and flushes `part`; waits for it to leave only while the client is not reading.
    private func send(_ part: HTTPResponsePart) async throws {
        guard !channel.isWritable else { return channel.write(part: part, flush: true) }
        let written = channel.eventLoop.makePromise(of: Void.self)
        channel.write(part: part, flush: true, promise: written)
        try await written.futureResult.get()
    }
}

extension HTTPField.Name {
    /// `x-request-id`.
    static let requestID = HTTPField.Name("x-request-id")!
    /// `request-id`: Anthropic's name for it.
    static let anthropicRequestID = HTTPField.Name("request-id")!
}
