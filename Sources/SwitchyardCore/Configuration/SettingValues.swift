import Configuration
import Foundation

/// Typed, validated reads of scalar settings; every failure names the setting.
struct SettingValues {
    let reader: ConfigReader

    func optionalString(_ key: SettingKey) throws(ConfigError) -> String? {
        let value = reader.string(forKey: ConfigKey([key.rawValue]), isSecret: key.isSecret)
        guard let value, !value.isEmpty else { return nil }
        return value
    }

    func string(_ key: SettingKey, default fallback: String) throws(ConfigError) -> String {
        try optionalString(key) ?? fallback
    }

    func bool(_ key: SettingKey, default fallback: Bool) throws(ConfigError) -> Bool {
        guard let raw = try optionalString(key) else { return fallback }
        switch raw.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigError("\(key.environmentName): `\(raw)` is not a boolean (true or false)")
        }
    }

    func int(_ key: SettingKey, default fallback: Int, range: ClosedRange<Int>) throws(ConfigError) -> Int {
        try optionalInt(key, range: range) ?? fallback
    }

    func optionalInt(_ key: SettingKey, range: ClosedRange<Int>) throws(ConfigError) -> Int? {
        guard let raw = try optionalString(key) else { return nil }
        guard let value = Int(raw.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw ConfigError(
                "\(key.environmentName): `\(raw)` is not a whole number from \(range.lowerBound) to \(range.upperBound)"
            )
        }
        return value
    }

    func port(_ key: SettingKey, default fallback: Int) throws(ConfigError) -> Int {
        guard let raw = try optionalString(key) else { return fallback }
        guard let value = Int(raw.trimmingCharacters(in: .whitespaces)), (0...65535).contains(value) else {
            throw ConfigError("\(key.environmentName): `\(raw)` is not a port number (0-65535)")
        }
        return value
    }

    func seconds(_ key: SettingKey, default fallback: Double) throws(ConfigError) -> Double {
        try optionalSeconds(key) ?? fallback
    }

    func optionalSeconds(_ key: SettingKey) throws(ConfigError) -> Double? {
        guard let raw = try optionalString(key) else { return nil }
        guard let value = Double(raw.trimmingCharacters(in: .whitespaces)), value > 0, value.isFinite else {
            throw ConfigError("\(key.environmentName): `\(raw)` is not a positive number of seconds")
        }
        return value
    }
}
