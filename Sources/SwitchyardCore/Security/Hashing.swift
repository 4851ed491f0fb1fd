import Crypto

/// The digests the gateway needs, from swift-crypto: SHA-256 for gateway keys (stored as their
/// hash) and for user ids in logs and rate-limit keys (so no token appears there), and SHA-1 for
/// the name Redis gives a Lua script (`EVALSHA`), which is a name, not a protection.
public enum Hashing {
    /// The 32-byte SHA-256 digest of `bytes`.
    public static func sha256(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        Array(SHA256.hash(data: Array(bytes)))
    }

    /// The SHA-256 digest of `text`'s UTF-8 bytes, as lower-case hex.
    public static func sha256Hex(_ text: String) -> String {
        hex(SHA256.hash(data: Array(text.utf8)))
    }

    /// The SHA-1 digest of `text`'s UTF-8 bytes, as lower-case hex (Redis script names).
    public static func sha1Hex(_ text: String) -> String {
        hex(Insecure.SHA1.hash(data: Array(text.utf8)))
    }

    /// Whether two digests are equal, compared in full whatever differs, so the time taken says
    /// nothing about which bytes matched.
    public static func equalInConstantTime(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference: UInt8 = a.count == b.count ? 0 : 1
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    /// Bytes as lower-case hex.
    public static func hex(_ digest: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
