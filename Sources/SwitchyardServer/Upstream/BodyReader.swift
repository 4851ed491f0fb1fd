import NIOCore

/// Reads an upstream body chunk by chunk. The gateway's own bodies (streamed or read whole) are
/// read through their iterators' own `next`, which runs on the reader's executor; a generic
/// `AsyncIteratorProtocol` call would switch executors on entry and on return, each switch
/// looking up the task's executor preference under a lock. Any other body is read through its
/// iterator.
struct BodyReader {
    private enum Source {
        case own(any OwnBodyIterator)
        case other(any AsyncIteratorProtocol<ByteBuffer, any Error>)
    }

    private var source: Source

    /// A reader of `body` from its start.
    init(_ body: any AsyncSequence<ByteBuffer, any Error> & Sendable) {
        if let streamed = body as? UpstreamBody {
            source = .own(streamed.makeAsyncIterator())
        } else if let whole = body as? WholeBody {
            source = .own(whole.makeAsyncIterator())
        } else {
            source = .other(body.makeAsyncIterator())
        }
    }

    /// The next chunk, nil at the body's end.
    mutating func next() async throws -> ByteBuffer? {
        switch source {
        case .own(var iterator):
            defer { source = .own(iterator) }
            return try await iterator.next()
        case .other(var iterator):
            defer { source = .other(iterator) }
            return try await iterator.next(isolation: #isolation)
        }
    }
}

/// The iterators of the gateway's own upstream bodies, whose `next` is declared in this module and
/// so runs on its caller's executor.
protocol OwnBodyIterator {
    /// The next chunk, nil at the body's end.
    mutating func next() async throws -> ByteBuffer?
}

extension UpstreamBody.AsyncIterator: OwnBodyIterator {}
extension WholeBody.AsyncIterator: OwnBodyIterator {}
