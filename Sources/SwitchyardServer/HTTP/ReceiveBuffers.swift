import NIOCore

/// How large a buffer each connection reads into. Every connection keeps its last receive buffer
/// for the next read, so an open stream holds two of them (client and upstream); NIO's default
/// starts at 2 KiB. Requests and streamed events are mostly a few hundred bytes, and the
/// allocator doubles towards 64 KiB after reads that fill the buffer, so large bodies still
/// arrive in few reads.
enum ReceiveBuffers {
    /// Starts at 512 bytes, between 64 bytes and 64 KiB.
    static let allocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 64 * 1024)
}
