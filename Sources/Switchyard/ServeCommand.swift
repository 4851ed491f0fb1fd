import ArgumentParser
import Foundation
import Logging
import SwitchyardCore
import SwitchyardServer

/// `switchyard serve`: run the gateway until SIGTERM or SIGINT, then drain and exit 0.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the gateway (the default).")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try options.load()
        do {
            try config.checkExposure()
            try GatewayServer.preflight(config)
        } catch {
            printError("switchyard: refusing to start: \(error.message)")
            throw ExitCode(1)
        }
        let level = Logger.Level(rawValue: config.logLevel) ?? .info
        let recent = RecentLines(capacity: 500)
        let sink = LineLogHandler.Sink { line in
            FileHandle.standardError.write(Data(line.utf8))
            recent.append(line)
        }
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, format: config.logFormat == "json" ? .json : .text, sink: sink)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "switchyard")
        let (flags, path) = (try options.flags(), options.config)
        let server = GatewayServer(config: config, logger: logger, recentLines: recent) { () throws(ConfigError) in
            try ConfigLoader(flags: flags, environment: ProcessInfo.processInfo.environment, configPath: path).load()
        }
        if config.allowUnauthenticated, !config.keyring.isEnabled, !config.providersWithServerKeys.isEmpty {
            logger.warning(
                "serving WITHOUT gateway keys although provider keys are configured server-side; anyone who can reach this gateway spends them (ALLOW_UNAUTHENTICATED=true)"
            )
        }
        logger.info(
            "switchyard starting",
            metadata: [
                "host": "\(config.host)", "port": "\(config.proxyPort)", "metrics_port": "\(config.metricsPort)",
                "config": "\(config.configFile ?? "none")",
            ])
        try await server.run { ports in
            var metadata: Logger.Metadata = ["port": "\(ports.proxy)", "metrics_port": "\(ports.metrics)"]
            if let admin = ports.admin { metadata["admin_port"] = "\(admin)" }
            logger.info("listening", metadata: metadata)
        }
        logger.info("switchyard stopped")
    }
}
