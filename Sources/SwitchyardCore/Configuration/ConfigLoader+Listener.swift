import Foundation

extension ConfigLoader {
    func buildListener(values: SettingValues) throws(ConfigError) -> ListenerSettings {
        var listener = ListenerSettings()
        switch (try values.optionalString(.tlsCertFile), try values.optionalString(.tlsKeyFile)) {
        case (nil, nil): break
        case (let cert?, let key?):
            for (setting, file) in [(SettingKey.tlsCertFile, cert), (.tlsKeyFile, key)]
            where !FileManager.default.isReadableFile(atPath: file) {
                throw ConfigError("\(setting.environmentName): `\(file)` cannot be read")
            }
            listener.tls = .init(certificateFile: cert, privateKeyFile: key)
        default: throw ConfigError("TLS_CERT_FILE and TLS_KEY_FILE must be set together")
        }
        listener.maxRequestLineBytes = try values.int(.maxRequestLineBytes, default: 8 * 1024, range: 256...(1 << 20))
        listener.maxHeaderBytes = try values.int(.maxHeaderBytes, default: 32 * 1024, range: 1024...(1 << 20))
        listener.maxHeaderCount = try values.int(.maxHeaderCount, default: 100, range: 8...10_000)
        listener.maxConnectionsPerAddress = try values.int(
            .maxConnectionsPerAddress, default: 1024, range: 0...1_000_000)
        listener.idleTimeoutSeconds = try values.seconds(.clientIdleTimeoutSeconds, default: 60)
        listener.maxDiscardBytes = try values.int(
            .maxDiscardBytes, default: listener.maxDiscardBytes, range: 0...Int(Int32.max))
        return listener
    }
}
