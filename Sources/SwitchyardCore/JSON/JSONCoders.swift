import Foundation

extension JSONEncoder {
    /// The encoder for everything the gateway writes: no escaped slashes, stable for tests.
    public static var gateway: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }
}
