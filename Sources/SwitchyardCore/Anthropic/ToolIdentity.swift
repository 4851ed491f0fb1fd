import Foundation

/// Tool ids and names as the Anthropic Messages API allows them, mapped reversibly to what other
/// providers use. Anthropic takes ids matching `[a-zA-Z0-9_-]+`; other providers' ids (Gemini's
/// carry a signature with `~`, `+`, `/`, `=`) are wrapped as `toolu_sy` + base64url and unwrapped
/// on the next request. OpenAI takes names of at most 64 characters; longer ones (Claude Code's
/// MCP tools) are shortened with a hash, and the answer gives the client's name back.
public enum ToolIdentity {
    private static let wrappedPrefix = "toolu_sy"
    static let maxNameLength = 64

    /// The id to show an Anthropic client for a provider's tool call id.
    public static func clientID(_ upstream: String) -> String {
        if !upstream.isEmpty, upstream.utf8.allSatisfy(isIDByte), !upstream.hasPrefix(wrappedPrefix) {
            return upstream
        }
        let encoded = Data(upstream.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return wrappedPrefix + encoded
    }

    /// The provider's tool call id behind an id an Anthropic client sent back.
    public static func upstreamID(_ client: String) -> String {
        guard client.hasPrefix(wrappedPrefix) else { return client }
        var base64 = String(client.dropFirst(wrappedPrefix.count))
            .replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let id = String(data: data, encoding: .utf8) else {
            return client
        }
        return id
    }

    /// The name to send a provider for a client's tool name: unchanged when short enough, else its
    /// first 55 characters, `_` and 8 hex digits of its SHA-256.
    public static func upstreamName(_ name: String) -> String {
        guard name.count > maxNameLength else { return name }
        return String(name.prefix(55)) + "_" + Hashing.sha256Hex(name).prefix(8)
    }

    private static func isIDByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default: false
        }
    }
}
