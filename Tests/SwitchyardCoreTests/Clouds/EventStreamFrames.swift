@testable import SwitchyardCore

/// AWS event-stream frames for tests, with real checksums.
enum EventStreamFrames {
    /// One message: string headers, then `payload`.
    static func frame(_ headers: [(String, String)], _ payload: String) -> [UInt8] {
        var block: [UInt8] = []
        for (name, value) in headers {
            block.append(UInt8(name.utf8.count))
            block += Array(name.utf8)
            block.append(7)
            block += [UInt8(value.utf8.count >> 8), UInt8(value.utf8.count & 0xFF)]
            block += Array(value.utf8)
        }
        let body = Array(payload.utf8)
        let total = 12 + block.count + body.count + 4
        var bytes = be(UInt32(total)) + be(UInt32(block.count))
        bytes += be(CRC32.checksum(bytes))
        bytes += block + body
        bytes += be(CRC32.checksum(bytes))
        return bytes
    }

    /// A Bedrock event of `type` with a JSON payload.
    static func event(_ type: String, _ json: String) -> [UInt8] {
        frame([(":event-type", type), (":content-type", "application/json"), (":message-type", "event")], json)
    }

    private static func be(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
