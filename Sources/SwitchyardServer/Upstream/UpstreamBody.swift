import NIOCore
import NIOHTTP1

/// A streamed response body as the pipeline reads it: chunks as they arrive; an iteration
/// cancelled by its task ends in `CancellationError`, never in a silent, clean end. When the last
/// copy of the sequence and its iterators is gone, the connection learns that its reader left.
struct UpstreamBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    private let reader: Reader

    /// The reading side's hold on the body.
    fileprivate final class Reader: Sendable {
        let body: StreamedBody
        init(_ body: StreamedBody) { self.body = body }
        deinit { body.readerLeft() }
    }

    /// The sequence of `body`'s parts.
    init(_ body: StreamedBody) { reader = Reader(body) }

    struct AsyncIterator: AsyncIteratorProtocol {
        fileprivate let reader: Reader

        mutating func next() async throws -> ByteBuffer? {
            let chunk = try await reader.body.next()
            if chunk == nil, Task.isCancelled { throw CancellationError() }
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(reader: reader) }
}

extension UpstreamResponse {
    /// The answer with `head`'s status and headers and `body`.
    init(_ head: HTTPResponseHead, body: some AsyncSequence<ByteBuffer, any Error> & Sendable) {
        self.init(
            status: Int(head.status.code), headers: head.headers, body: body)
    }
}

/// The body of an answer read whole before it was handed over: the one buffer, or the failure
/// that ended the reading (surfacing, as for a streamed body, when the body is read).
struct WholeBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let result: Result<ByteBuffer, TransportError>

    struct AsyncIterator: AsyncIteratorProtocol {
        var result: Result<ByteBuffer, TransportError>?

        mutating func next() async throws -> ByteBuffer? {
            guard let result else { return nil }
            self.result = nil
            return try result.get()
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(result: result) }
}
