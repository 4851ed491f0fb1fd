import ArgumentParser
import Foundation
import SwitchyardCore

/// Flags shared by the commands that read the configuration. A flag beats the environment,
/// which beats the config file, which beats the built-in default.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "YAML config file (default: $SWITCHYARD_CONFIG).")
    var config: String?

    @Option(name: .long, help: "Address to bind both listeners to (default 0.0.0.0; env HOST).")
    var host: String?

    @Option(name: .long, help: "Client-facing port (default 8080; env PROXY_PORT).")
    var port: String?

    @Option(name: .long, help: "Prometheus metrics port (default 9090; env METRICS_PORT).")
    var metricsPort: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical (env LOG_LEVEL).")
    var logLevel: String?

    @Flag(
        name: .long, help: "Serve without gateway keys even with server-side provider keys (env ALLOW_UNAUTHENTICATED)."
    )
    var allowUnauthenticated = false

    @Option(
        name: .customLong("set"),
        help: ArgumentHelp("Any setting as NAME=VALUE, e.g. --set max_body_bytes=1048576.", valueName: "name=value"))
    var settings: [String] = []

    /// Loads the configuration, or prints one clear line and exits with status 1.
    func load() throws -> GatewayConfig {
        do {
            return try ConfigLoader(
                flags: try flags(), environment: ProcessInfo.processInfo.environment, configPath: config
            )
            .load()
        } catch let error as ConfigError {
            printError("switchyard: configuration error: \(error.message)")
            throw ExitCode(1)
        }
    }

    func flags() throws -> [SettingKey: String] {
        var flags: [SettingKey: String] = [:]
        for entry in settings {
            guard let eq = entry.firstIndex(of: "="),
                let key = SettingKey(rawValue: entry[..<eq].lowercased())
            else {
                printError(
                    "switchyard: configuration error: --set \(entry): expected NAME=VALUE with a known setting name")
                throw ExitCode(1)
            }
            flags[key] = String(entry[entry.index(after: eq)...])
        }
        if let host { flags[.host] = host }
        if let port { flags[.proxyPort] = port }
        if let metricsPort { flags[.metricsPort] = metricsPort }
        if let logLevel { flags[.logLevel] = logLevel }
        if allowUnauthenticated { flags[.allowUnauthenticated] = "true" }
        return flags
    }
}

/// Writes a line to standard error.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
