import NIOSSL
import SwitchyardCore

/// TLS for the client listener, from the PEM files in the settings: TLS 1.2 or newer only.
enum ListenerTLS {
    /// The server TLS configuration.
    /// - Throws: a `ConfigError` naming the file that cannot be used.
    static func configuration(_ files: ListenerSettings.TLSFiles) throws(ConfigError) -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificateFile)
        } catch {
            throw ConfigError("TLS_CERT_FILE: `\(files.certificateFile)` holds no PEM certificate (\(error))")
        }
        guard !chain.isEmpty else {
            throw ConfigError("TLS_CERT_FILE: `\(files.certificateFile)` holds no PEM certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: files.privateKeyFile, format: .pem)
        } catch {
            throw ConfigError("TLS_KEY_FILE: `\(files.privateKeyFile)` holds no PEM private key")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }
}
