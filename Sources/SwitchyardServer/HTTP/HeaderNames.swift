extension String {
    /// Whether this header name is `lowercase` ignoring ASCII case, compared in place: lowercasing
    /// a copy to look it up costs more than the few comparisons a header takes. Only `A`-`Z` fold,
    /// so no other byte can pass for a letter.
    func isHeaderName(_ lowercase: String) -> Bool {
        guard utf8.count == lowercase.utf8.count else { return false }
        let equal = utf8.withContiguousStorageIfAvailable { name in
            lowercase.utf8.withContiguousStorageIfAvailable { wanted in
                zip(name, wanted).allSatisfy { Self.folded($0) == $1 }
            }
        }
        // Strings without contiguous UTF-8 (none on Linux) are compared through their views.
        return (equal ?? nil) ?? utf8.elementsEqual(lowercase.utf8) { Self.folded($0) == $1 }
    }

    /// `byte` with `A`-`Z` lowercased.
    @inline(__always)
    private static func folded(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }
}
