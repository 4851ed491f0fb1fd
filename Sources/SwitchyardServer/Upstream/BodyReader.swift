import NIOCore

/// Reads an upstream body chunk by chunk. The gateway's own streamed body is read through its
/// concrete iterator, whose `next` runs on the reader's executor; a generic `AsyncIteratorProtocol`
/// call would switch executors on entry and on return, each switch looking up the task's executor
/// preference under a lock. Any other body is read through its iterator.
struct BodyReader {
    private enum Source {
        case streamed(UpstreamBody.AsyncIterator)
        case other(any AsyncIteratorProtocol<ByteBuffer, any Error>)
    }

    private var source: Source

    /// A reader of `body` from its start.
    init(_ body: any AsyncSequence<ByteBuffer, any Error> & Sendable) {
        if let streamed = body as? UpstreamBody {
            source = .streamed(streamed.makeAsyncIterator())
        } else {
            source = .other(body.makeAsyncIterator())
        }
    }

    /// The next chunk, nil at the body's end.
    mutating func next() async throws -> ByteBuffer? {
        switch source {
        case .streamed(var iterator):
            defer { source = .streamed(iterator) }
            return try await iterator.next()
        case .other(var iterator):
            defer { source = .other(iterator) }
            return try await iterator.next(isolation: #isolation)
        }
    }
}
