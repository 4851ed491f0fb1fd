import NIOCore

/// A RESP2 reply from Redis.
public enum RESPValue: Sendable, Equatable {
    /// `+OK`.
    case simpleString(String)
    /// `-ERR …`.
    case error(String)
    /// `:42`.
    case integer(Int)
    /// `$n` bulk string; nil for `$-1`.
    case bulkString(String?)
    /// `*n` array; nil for `*-1`.
    case array([RESPValue]?)

    /// The value as an integer, when it is one (or a numeric string).
    public var int: Int? {
        switch self {
        case .integer(let i): return i
        case .bulkString(let s?), .simpleString(let s): return Int(s)
        default: return nil
        }
    }

    /// The value as a string, when it is one.
    public var string: String? {
        switch self {
        case .simpleString(let s), .bulkString(let s?): return s
        case .integer(let i): return String(i)
        default: return nil
        }
    }
}

/// Parses RESP2 replies incrementally: a reply split across reads waits for the rest.
struct RESPParser {
    enum Outcome {
        case value(RESPValue)
        case needMoreData
    }

    /// Parses one reply at the buffer's reader index, consuming it only when complete.
    static func parse(_ buffer: inout ByteBuffer) throws -> RESPValue? {
        var copy = buffer
        guard case .value(let value) = try parseValue(&copy) else { return nil }
        buffer = copy
        return value
    }

    private static func line(_ buffer: inout ByteBuffer) -> String? {
        let view = buffer.readableBytesView
        guard let cr = view.firstIndex(of: 0x0D), cr + 1 < view.endIndex, view[cr + 1] == 0x0A else { return nil }
        let length = cr - view.startIndex
        let text = buffer.readString(length: length)
        buffer.moveReaderIndex(forwardBy: 2)
        return text
    }

    private static func parseValue(_ buffer: inout ByteBuffer) throws -> Outcome {
        guard let type = buffer.readInteger(as: UInt8.self) else { return .needMoreData }
        guard let text = line(&buffer) else { return .needMoreData }
        switch type {
        case UInt8(ascii: "+"): return .value(.simpleString(text))
        case UInt8(ascii: "-"): return .value(.error(text))
        case UInt8(ascii: ":"):
            guard let i = Int(text) else { throw RedisError.protocolViolation("bad integer") }
            return .value(.integer(i))
        case UInt8(ascii: "$"):
            guard let length = Int(text) else { throw RedisError.protocolViolation("bad bulk length") }
            if length < 0 { return .value(.bulkString(nil)) }
            guard buffer.readableBytes >= length + 2, let s = buffer.readString(length: length) else {
                return .needMoreData
            }
            buffer.moveReaderIndex(forwardBy: 2)
            return .value(.bulkString(s))
        case UInt8(ascii: "*"):
            guard let count = Int(text) else { throw RedisError.protocolViolation("bad array length") }
            if count < 0 { return .value(.array(nil)) }
            var items: [RESPValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count {
                guard case .value(let item) = try parseValue(&buffer) else { return .needMoreData }
                items.append(item)
            }
            return .value(.array(items))
        default:
            throw RedisError.protocolViolation("unknown reply type")
        }
    }

    /// A command as a RESP array of bulk strings.
    static func encode(_ arguments: [String], into buffer: inout ByteBuffer) {
        buffer.writeString("*\(arguments.count)\r\n")
        for argument in arguments {
            buffer.writeString("$\(argument.utf8.count)\r\n")
            buffer.writeString(argument)
            buffer.writeString("\r\n")
        }
    }
}

/// Why a Redis command failed.
public enum RedisError: Error, Sendable, Equatable {
    /// No connection could be made (or the pool is backing off after failures).
    case unavailable(String)
    /// The reply did not come in time.
    case timeout
    /// Redis answered with an error reply.
    case server(String)
    /// The bytes were not RESP.
    case protocolViolation(String)
    /// The URL is not `redis://[user:password@]host:port[/db]`.
    case invalidURL(String)
}
