/// The character classes the pre-tokenization patterns use, as bits of one byte per scalar.
///
/// `\p{L}` is Lu Ll Lt Lm Lo; `\p{N}` is Nd Nl No; `\s` is the White_Space property (as in the
/// Rust `regex` crate tiktoken builds on). o200k's two letter sets are "upper-ish"
/// (Lu Lt Lm Lo M) and "lower-ish" (Ll Lm Lo M).
struct ScalarClass: OptionSet, Sendable {
    let rawValue: UInt8

    static let letter = ScalarClass(rawValue: 1 << 0)
    static let number = ScalarClass(rawValue: 1 << 1)
    static let space = ScalarClass(rawValue: 1 << 2)
    static let upperish = ScalarClass(rawValue: 1 << 3)
    static let lowerish = ScalarClass(rawValue: 1 << 4)
    /// `\r` or `\n`.
    static let newline = ScalarClass(rawValue: 1 << 5)

    /// Classes of every scalar in the Basic Multilingual Plane, computed once.
    static let bmp: [ScalarClass] = (0..<0x10000).map { value in
        guard let scalar = Unicode.Scalar(UInt32(value)) else { return [] }
        return classify(scalar)
    }

    /// The classes of `scalar`, from the standard library's Unicode tables. Never inlined: its
    /// resilient Unicode types would make every scanner it was inlined into look up their metadata
    /// on entry, for the rare scalar outside the Basic Multilingual Plane.
    @inline(never)
    static func classify(_ scalar: Unicode.Scalar) -> ScalarClass {
        var c: ScalarClass = []
        let properties = scalar.properties
        switch properties.generalCategory {
        case .uppercaseLetter, .titlecaseLetter: c = [.letter, .upperish]
        case .lowercaseLetter: c = [.letter, .lowerish]
        case .modifierLetter, .otherLetter: c = [.letter, .upperish, .lowerish]
        case .nonspacingMark, .spacingMark, .enclosingMark: c = [.upperish, .lowerish]
        case .decimalNumber, .letterNumber, .otherNumber: c = [.number]
        default: break
        }
        if properties.isWhitespace { c.insert(.space) }
        if scalar == "\r" || scalar == "\n" { c.insert(.newline) }
        return c
    }

    /// The classes of the scalar with value `value`.
    @inline(__always)
    static func of(_ value: UInt32) -> ScalarClass {
        if value < 0x10000 { return bmp[Int(value)] }
        return Unicode.Scalar(value).map(classify) ?? []
    }
}

/// A cursor over valid UTF-8 that decodes one scalar at a time.
struct UTF8Text {
    let p: UnsafeBufferPointer<UInt8>
    var count: Int { p.count }

    /// The scalar value at byte offset `i` and its length in bytes.
    @inline(__always)
    func scalar(at i: Int) -> (value: UInt32, length: Int) {
        let b0 = p[i]
        if b0 < 0x80 { return (UInt32(b0), 1) }
        if b0 < 0xE0 { return (UInt32(b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2) }
        if b0 < 0xF0 {
            return (UInt32(b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3)
        }
        return (
            UInt32(b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6
                | UInt32(p[i + 3] & 0x3F), 4
        )
    }

    /// The classes of the scalar at `i`, or none at the end of the text.
    @inline(__always)
    func classes(at i: Int) -> ScalarClass {
        guard i < count else { return [] }
        let b = p[i]
        if b < 0x80 { return ScalarClass.ofASCII(b) }
        return ScalarClass.of(scalar(at: i).value)
    }

    /// The byte length of the scalar at `i`.
    @inline(__always)
    func length(at i: Int) -> Int {
        let b0 = p[i]
        return b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4
    }

    /// Offset past the run of scalars from `i` whose classes satisfy `test`.
    @inline(__always)
    func skip(from i: Int, while test: (ScalarClass) -> Bool) -> Int {
        var j = i
        while j < count, test(classes(at: j)) { j += length(at: j) }
        return j
    }

    /// Offset past a contraction (`'s 't 're 've 'm 'll 'd`, case-insensitive, `ſ` folding to `s`)
    /// at `i`, or nil. The two patterns list the same seven suffixes.
    @inline(__always)
    func contractionEnd(at i: Int) -> Int? {
        guard i + 1 < count, p[i] == UInt8(ascii: "'") else { return nil }
        let c1 = p[i + 1] | 0x20
        switch c1 {
        case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"):
            return p[i + 1] < 0x80 ? i + 2 : nil
        case _ where p[i + 1] == 0xC5 && i + 2 < count && p[i + 2] == 0xBF:  // ſ (U+017F) folds to s
            return i + 3
        case UInt8(ascii: "r"), UInt8(ascii: "v"), UInt8(ascii: "l"):
            guard i + 2 < count else { return nil }
            let c2 = p[i + 2] | 0x20
            let wanted = c1 == UInt8(ascii: "l") ? UInt8(ascii: "l") : UInt8(ascii: "e")
            return c2 == wanted && p[i + 2] < 0x80 ? i + 3 : nil
        default:
            return nil
        }
    }
}

extension ScalarClass {
    /// The classes of an ASCII byte, from its ranges: no table to reach through a lazy global on
    /// the path most text takes. Equal to `classify` for every ASCII scalar (a test checks it).
    @inline(__always)
    static func ofASCII(_ b: UInt8) -> ScalarClass {
        if b &- UInt8(ascii: "a") < 26 { return [.letter, .lowerish] }
        if b &- UInt8(ascii: "A") < 26 { return [.letter, .upperish] }
        if b &- UInt8(ascii: "0") < 10 { return .number }
        if b == 0x0A || b == 0x0D { return [.space, .newline] }
        if b == 0x20 || b &- 0x09 < 5 { return .space }
        return []
    }
}
