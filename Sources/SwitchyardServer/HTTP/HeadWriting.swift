import NIOCore

extension ByteBuffer {
    /// Writes a message head: `startLine`'s pieces and its line end, a `name: value` line per field,
    /// the blank line. The bytes are measured first and copied into the buffer once: a
    /// `writeString` a piece costs several times more. The caller has made sure no piece can break
    /// a line.
    mutating func writeHead<Fields: Collection<(name: String, value: String)>>(
        startLine: [String], fields: Fields
    ) {
        var length = 2 + 2
        for piece in startLine { length += piece.utf8.count }
        for field in fields { length += field.name.utf8.count + 2 + field.value.utf8.count + 2 }
        writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw in
            var at = 0
            func put(_ text: String) {
                let copied = text.utf8.withContiguousStorageIfAvailable { bytes in
                    UnsafeMutableRawBufferPointer(rebasing: raw[at..<(at + bytes.count)]).copyMemory(
                        from: UnsafeRawBufferPointer(bytes))
                    return bytes.count
                }
                // Strings without contiguous UTF-8 (none on Linux) are copied a byte at a time.
                at +=
                    copied
                    ?? text.utf8.reduce(into: 0) { count, byte in
                        raw[at + count] = byte
                        count += 1
                    }
            }
            for piece in startLine { put(piece) }
            put("\r\n")
            for field in fields {
                put(field.name)
                put(": ")
                put(field.value)
                put("\r\n")
            }
            put("\r\n")
            return at
        }
    }
}
