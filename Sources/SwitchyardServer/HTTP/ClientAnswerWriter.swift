import HTTPTypes
import NIOCore
import NIOHTTP1

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

    /// Hands `field` the fields every answer carries: the request id, the `date` and the server.
    private func ownFields(date: String, _ field: (HTTPField.Name, String) -> Void) {
        field(.requestID, requestID)
        if anthropic { field(.anthropicRequestID, requestID) }
        field(.date, date)
        field(.server, "switchyard")
    }

    /// Whether `name` is one of the fields `ownFields` sets, which replace any the answer has.
    /// Only a name of one of their lengths is compared.
    private func isOwn(_ name: HTTPField.Name) -> Bool {
        switch name.canonicalName.utf8.count {
        case 4: name == .date
        case 6: name == .server
        case 10: anthropic && name == .anthropicRequestID
        case 12: name == .requestID
        default: false
        }
    }

    /// Writes a whole answer: head, body and end in one flush. The head's fields are `headers`,
    /// those every answer carries (in place of any of their names) and the body's length, written
    /// as bytes here; a `connection: close` among them closes the connection after the answer.
    func whole(_ status: HTTPResponse.Status, _ headers: HTTPFields, body: ByteBuffer) {
        let date = HTTPDate.now
        var closes = closesConnection
        var lines = channel.allocator.buffer(capacity: 0)
        lines.writeFieldLines { line in
            for field in headers {
                switch FramingHeader(field.name) {
                case .connection: closes = closes || field.value == "close"
                case .contentLength, .transferEncoding: break
                case nil: if !isOwn(field.name) { line(field.name.rawName, field.value) }
                }
            }
            ownFields(date: date) { name, value in line(name.rawName, value) }
        }
        let head = EncodedHead(status: status, lines: lines, length: body.readableBytes, closes: closes)
        channel.write(part: AnswerPart.encodedHead(head))
        if body.readableBytes > 0 { channel.write(part: AnswerPart.body(body)) }
        channel.write(part: AnswerPart.end(nil), flush: true)
    }

    /// Starts a streamed answer of `contentType`, not to be cached, carrying the upstream's
    /// headers worth forwarding (`ForwardedHeaders`) and the gateway's own (`own`, which replace
    /// upstream headers of their names): its head is written, not flushed. The fields are written
    /// as bytes here, with no `HTTPFields` built for them.
    func startStream(
        contentType: String, forwarding upstream: HTTPHeaders,
        own: [(name: HTTPField.Name, value: String)]
    ) {
        // Gathered first: the lines are handed out twice, to be measured and then written. The
        // stream's `cache-control` and the fields every answer carries replace the upstream's.
        var kept: [HTTPField] = []
        ForwardedHeaders.forEachKept(upstream, own: own) { field in
            if field.name != .cacheControl, !isOwn(field.name) { kept.append(field) }
        }
        let date = HTTPDate.now
        var lines = channel.allocator.buffer(capacity: 0)
        lines.writeFieldLines { line in
            line(HTTPField.Name.contentType.rawName, contentType)
            line(HTTPField.Name.cacheControl.rawName, "no-cache")
            for field in kept { line(field.name.rawName, field.value) }
            for (name, value) in own { line(name.rawName, value) }
            ownFields(date: date) { name, value in line(name.rawName, value) }
        }
        let head = EncodedHead(status: .ok, lines: lines, length: nil, closes: closesConnection)
        channel.write(part: AnswerPart.encodedHead(head))
    }

    /// Writes one chunk of a stream, flushed once the task waits; throws when the client is gone.
    func chunk(_ buffer: ByteBuffer) async throws {
        guard channel.isActive else { throw ChannelError.ioOnClosedChannel }
        guard channel.isWritable else { return try await send(.body(buffer)) }
        channel.write(part: AnswerPart.body(buffer))
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
    private func send(_ part: AnswerPart) async throws {
        guard !channel.isWritable else { return channel.write(part: part, flush: true) }
        let written = channel.eventLoop.makePromise(of: Void.self)
        channel.write(part: part, flush: true, promise: written)
        try await written.futureResult.value()
    }
}

extension HTTPField.Name {
    /// `x-request-id`.
    static let requestID = HTTPField.Name("x-request-id")!
    /// `request-id`: Anthropic's name for it.
    static let anthropicRequestID = HTTPField.Name("request-id")!
}
