import Foundation

extension ConfigLoader {
    func buildKeyring(_ entries: [ConfigFile.KeyEntry]) throws(ConfigError) -> GatewayKeyring {
        var keys: [GatewayKey] = []
        var names: Set<String> = []
        for (index, entry) in entries.enumerated() {
            let at = "config file: gateway_keys[\(index)] (`\(entry.name)`)"
            try Self.requireUniqueName(entry.name, among: &names, at: at, of: "key")
            let digest: [UInt8]
            switch (entry.sha256, entry.keyEnv) {
            case (let hex?, nil):
                guard let bytes = Self.hexBytes(hex), bytes.count == 32 else {
                    throw ConfigError("\(at): sha256 must be 64 hex digits (print one with `switchyard hash-key`)")
                }
                digest = bytes
            case (nil, let env?):
                guard let secret = environment[env], !secret.isEmpty else {
                    throw ConfigError("\(at): key_env names \(env), which is not set")
                }
                digest = Hashing.sha256(Array(secret.utf8))
            default:
                throw ConfigError("\(at): give exactly one of sha256 and key_env")
            }
            var expires: Date?
            if let text = entry.expires {
                guard let date = Self.date(text) else {
                    throw ConfigError(
                        "\(at): expires `\(text)` is not an ISO 8601 date (2027-01-31 or 2027-01-31T12:00:00Z)")
                }
                expires = date
            }
            keys.append(
                GatewayKey(
                    name: entry.name, digest: digest, models: entry.models.map { $0.map(ModelPattern.init) },
                    expires: expires,
                    limits: try Self.limits(tokens: entry.maxTokens, requests: entry.maxRequests, at: at),
                    team: entry.team.flatMap { $0.isEmpty ? nil : $0 },
                    budget: try entry.budgetUSD.map { usd throws(ConfigError) in
                        GatewayKey.budget(
                            name: entry.name, nanodollars: try Self.nanodollars(usd, at: at),
                            period: try Self.period(nil, windowMinutes: entry.budgetWindowMinutes, at: at))
                    }))
        }
        return GatewayKeyring(keys: keys)
    }

    /// Hex digits as bytes; nil when they are not an even number of hex digits.
    public static func hexBytes(_ hex: String) -> [UInt8]? {
        let chars = Array(hex.lowercased().utf8)
        guard chars.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: chars.count, by: 2) {
            guard let byte = UInt8(String(decoding: chars[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    static func date(_ text: String) -> Date? {
        let full = ISO8601DateFormatter()
        if let date = full.date(from: text) { return date }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        return day.date(from: text)
    }
}
