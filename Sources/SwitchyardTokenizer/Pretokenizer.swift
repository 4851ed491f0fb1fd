/// Splits text into pieces exactly as tiktoken's regular expressions do, with a hand-written
/// scanner: at each position the pattern's alternatives are tried in order, with the same
/// greedy, possessive and backtracking behaviour, so the first that matches decides the piece.
enum Pretokenizer: Sendable {
    /// `cl100k_base`'s pattern.
    case cl100k
    /// `o200k_base`'s pattern.
    case o200k

    /// The end (byte offset) of the piece that starts at `i`: the common ASCII words and numbers
    /// by `asciiEnd`, the rest by the whole pattern's scanner.
    @inline(__always)
    func pieceEnd(_ t: UTF8Text, from i: Int) -> Int {
        switch self {
        case .cl100k: return Self.asciiEnd(t, i, casesApart: false) ?? Self.cl100kEnd(t, i)
        case .o200k: return Self.asciiEnd(t, i, casesApart: true) ?? Self.o200kEnd(t, i)
        }
    }

    /// The end of the piece at `i` when it is an ASCII word, with or without one space before it,
    /// or one to three ASCII digits; nil for anything else, and whenever the scalar after the run
    /// could change the piece (a non-ASCII scalar, which may be a letter or digit, or an apostrophe,
    /// which may start a contraction), so the general scanner decides. Both patterns take a word
    /// the same way there: cl100k a run of letters (`casesApart` false), o200k upper-case letters
    /// then lower-case ones (`[Upper]*[Lower]+`, or `[Upper]+` when no lower-case letter follows).
    @inline(__always)
    static func asciiEnd(_ t: UTF8Text, _ i: Int, casesApart: Bool) -> Int? {
        let p = t.p
        var j = i
        if p[j] == 0x20 {
            j += 1
            guard j < p.count else { return nil }
        }
        let first = p[j]
        if (first | 0x20) &- UInt8(ascii: "a") < 26 {
            if casesApart {
                while j < p.count, p[j] &- UInt8(ascii: "A") < 26 { j += 1 }
                while j < p.count, p[j] &- UInt8(ascii: "a") < 26 { j += 1 }
            } else {
                while j < p.count, (p[j] | 0x20) &- UInt8(ascii: "a") < 26 { j += 1 }
            }
            guard j == p.count || (p[j] < 0x80 && p[j] != UInt8(ascii: "'")) else { return nil }
            return j
        }
        guard j == i, first &- UInt8(ascii: "0") < 10 else { return nil }
        j += 1
        while j < min(p.count, i + 3), p[j] &- UInt8(ascii: "0") < 10 { j += 1 }
        guard j == p.count || p[j] < 0x80 else { return nil }
        return j
    }

    /// `[^\r\n\p{L}\p{N}]`: what may stand before a letter run.
    @inline(__always)
    static func isPrefix(_ c: ScalarClass) -> Bool { c.isDisjoint(with: [.letter, .number, .newline]) }

    /// `[^\s\p{L}\p{N}]`: punctuation, symbols, marks, controls.
    @inline(__always)
    static func isPunct(_ c: ScalarClass) -> Bool { c.isDisjoint(with: [.letter, .number, .space]) }

    /// ` ?[^\s\p{L}\p{N}]+` followed by a run of `trailing` characters; nil when it does not match.
    @inline(__always)
    static func punctuationEnd(_ t: UTF8Text, _ i: Int, trailingSlash: Bool) -> Int? {
        var j = i
        if t.p[j] == 0x20, isPunct(t.classes(at: j + 1)), j + 1 < t.count { j += 1 }
        guard isPunct(t.classes(at: j)) else { return nil }
        j = t.skip(from: j, while: isPunct)
        while j < t.count, t.p[j] == 0x0A || t.p[j] == 0x0D || (trailingSlash && t.p[j] == UInt8(ascii: "/")) {
            j += 1
        }
        return j
    }

    /// The whitespace alternatives shared by both patterns, given the run `[i, e)`:
    /// up to the last newline in the run (`\s*[\r\n]`), else all but the last scalar when
    /// something follows (`\s+(?!\S)`), else the run (o200k `\s+`) or one scalar (cl100k `\s`).
    @inline(__always)
    static func whitespaceEnd(_ t: UTF8Text, _ i: Int, _ e: Int, wholeRunLast: Bool) -> Int {
        var lastNewline = -1
        var lastStart = i
        var scalars = 0
        var j = i
        while j < e {
            if t.p[j] == 0x0A || t.p[j] == 0x0D { lastNewline = j }
            lastStart = j
            scalars += 1
            j += t.length(at: j)
        }
        if lastNewline >= 0 { return lastNewline + 1 }
        if scalars >= 2 { return lastStart }
        return wholeRunLast ? e : i + t.length(at: i)
    }

    // MARK: cl100k_base
    // 's|'t|…  |  [^\r\n\p{L}\p{N}]?+\p{L}++  |  \p{N}{1,3}+  |  ?[^\s\p{L}\p{N}]++[\r\n]*+
    // |  \s++$  |  \s*[\r\n]  |  \s+(?!\S)  |  \s

    static func cl100kEnd(_ t: UTF8Text, _ i: Int) -> Int {
        if let end = t.contractionEnd(at: i) { return end }
        let c0 = t.classes(at: i)
        let l0 = t.length(at: i)
        if c0.contains(.letter) {
            return t.skip(from: i + l0) { $0.contains(.letter) }
        }
        if isPrefix(c0), t.classes(at: i + l0).contains(.letter) {
            return t.skip(from: i + l0) { $0.contains(.letter) }
        }
        if c0.contains(.number) {
            var j = i + l0
            for _ in 0..<2 where t.classes(at: j).contains(.number) { j += t.length(at: j) }
            return j
        }
        if let end = punctuationEnd(t, i, trailingSlash: false) { return end }
        // Whitespace (every other scalar is a letter, number or punctuation).
        let e = t.skip(from: i) { $0.contains(.space) }
        if e == t.count { return e }
        return whitespaceEnd(t, i, e, wholeRunLast: false)
    }

    // MARK: o200k_base
    // [^\r\n\p{L}\p{N}]?[Upper]*[Lower]+(contraction)?  |  [^\r\n\p{L}\p{N}]?[Upper]+[Lower]*(contraction)?
    // |  \p{N}{1,3}  |  ?[^\s\p{L}\p{N}]+[\r\n/]*  |  \s*[\r\n]+  |  \s+(?!\S)  |  \s+

    static func o200kEnd(_ t: UTF8Text, _ i: Int) -> Int {
        let c0 = t.classes(at: i)
        let l0 = t.length(at: i)
        let hasPrefix = isPrefix(c0) && i + l0 < t.count
        // Alternative 1, first with the optional prefix taken, then without.
        if hasPrefix, let end = upperStarLowerPlus(t, i + l0) { return end }
        if let end = upperStarLowerPlus(t, i) { return end }
        // Alternative 2, likewise.
        if hasPrefix, let end = upperPlusLowerStar(t, i + l0) { return end }
        if let end = upperPlusLowerStar(t, i) { return end }
        if c0.contains(.number) {
            var j = i + l0
            for _ in 0..<2 where t.classes(at: j).contains(.number) { j += t.length(at: j) }
            return j
        }
        if let end = punctuationEnd(t, i, trailingSlash: true) { return end }
        let e = t.skip(from: i) { $0.contains(.space) }
        if e == t.count { return e }
        return whitespaceEnd(t, i, e, wholeRunLast: true)
    }

    /// `[Upper]*[Lower]+(contraction)?` at `s`. The greedy upper run gives back scalars until a
    /// lower-ish one can start the lower run.
    @inline(__always)
    static func upperStarLowerPlus(_ t: UTF8Text, _ s: Int) -> Int? {
        var lastLowerStart = -1
        var j = s
        while j < t.count {
            let c = t.classes(at: j)
            guard c.contains(.upperish) else { break }
            if c.contains(.lowerish) { lastLowerStart = j }
            j += t.length(at: j)
        }
        let end: Int
        if t.classes(at: j).contains(.lowerish) {
            end = t.skip(from: j) { $0.contains(.lowerish) }
        } else if lastLowerStart >= 0 {
            end = lastLowerStart + t.length(at: lastLowerStart)
        } else {
            return nil
        }
        return t.contractionEnd(at: end) ?? end
    }

    /// `[Upper]+[Lower]*(contraction)?` at `s`.
    @inline(__always)
    static func upperPlusLowerStar(_ t: UTF8Text, _ s: Int) -> Int? {
        guard t.classes(at: s).contains(.upperish) else { return nil }
        let upperEnd = t.skip(from: s) { $0.contains(.upperish) }
        let end = t.skip(from: upperEnd) { $0.contains(.lowerish) }
        return t.contractionEnd(at: end) ?? end
    }
}
