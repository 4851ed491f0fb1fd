import NIOCore

extension ByteBuffer {
    /// Writes a message head: `startLine`'s pieces and its line end, a `name: value` line for each
    /// field `fields` hands to the function it is given, the blank line. `fields` is called twice,
    /// to measure and to write, so the caller's fields are read where they are, not gathered into
    /// a list first. The bytes are measured first and copied into the buffer once: a
    /// `writeString` a piece costs several times more. The caller has made sure no piece can break
    /// a line.
    mutating func writeHead(
        startLine: [String], fields: (_ line: (_ name: String, _ value: String) -> Void) -> Void
    ) {
        writeLines(startLine: startLine, fields: fields)
    }

    /// Writes only the `name: value` lines `fields` hands to the function it is given, measured
    /// and copied once like `writeHead`'s: an answer head's fields written before its status line
    /// is known.
    mutating func writeFieldLines(_ fields: (_ line: (_ name: String, _ value: String) -> Void) -> Void) {
        writeLines(startLine: nil, fields: fields)
    }

    /// Writes `startLine` and its line end when there is one, the fields' lines, and then the
    /// blank line that ends a head, or none without a start line.
    private mutating func writeLines(
        startLine: [String]?, fields: (_ line: (_ name: String, _ value: String) -> Void) -> Void
    ) {
        let whole = startLine != nil
        var length = whole ? 2 + 2 : 0
        for piece in startLine ?? [] { length += piece.utf8.count }
        fields { name, value in length += name.utf8.count + 2 + value.utf8.count + 2 }
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
            if let startLine {
                for piece in startLine { put(piece) }
                put("\r\n")
            }
            fields { name, value in
                put(name)
                put(": ")
                put(value)
                put("\r\n")
            }
            if whole { put("\r\n") }
            return at
        }
    }
}
