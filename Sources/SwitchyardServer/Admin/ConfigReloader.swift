import Logging
import ServiceLifecycle
import SwitchyardCore
import Synchronization
import UnixSignals

/// Reads the configuration again (on `SIGHUP` or `POST /admin/reload`) and makes its providers,
/// routes, prices and keys current at once: a file that does not load is refused with its reason
/// and the running configuration kept. Requests in flight finish on the configuration they
/// started with.
public final class ConfigReloader: Sendable {
    /// What a refused reload says.
    public struct Refusal: Error, Sendable {
        /// Why the new configuration was not taken.
        public var reason: String
    }

    private let gateway: Gateway
    private let load: @Sendable () throws(ConfigError) -> GatewayConfig
    /// One reload at a time, so the file read last is the one that counts.
    private let serial = Mutex(())

    /// A reloader of `gateway` that loads the configuration with `load` (the same settings and
    /// file `serve` started with, read again).
    public init(gateway: Gateway, load: @escaping @Sendable () throws(ConfigError) -> GatewayConfig) {
        self.gateway = gateway
        self.load = load
    }

    /// Loads and applies the configuration; `trigger` names what asked, for the log line.
    public func reload(trigger: String) -> Result<ReloadReport, Refusal> {
        serial.withLock { _ in
            let loaded: GatewayConfig
            do throws(ConfigError) {
                loaded = try load()
                try loaded.checkExposure()
            } catch {
                gateway.logger.error(
                    "configuration reload refused; the running configuration is kept",
                    metadata: ["trigger": "\(trigger)", "reason": "\(error.message)"])
                return .failure(Refusal(reason: error.message))
            }
            let report = gateway.reload(loaded)
            var metadata: Logger.Metadata = [
                "trigger": "\(trigger)", "applied": "\(report.applied.joined(separator: ","))",
            ]
            if !report.needRestart.isEmpty {
                metadata["need_restart"] = "\(report.needRestart.joined(separator: ","))"
            }
            gateway.logger.notice("configuration reloaded", metadata: metadata)
            return .success(report)
        }
    }
}

/// Reloads the configuration on every `SIGHUP` until graceful shutdown.
struct ReloadOnHangup: Service {
    /// The reloader.
    let reloader: ConfigReloader

    /// Waits for `SIGHUP`s and reloads on each.
    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals { _ = reloader.reload(trigger: "SIGHUP") }
        }
    }
}
