import ArgumentParser
import SwitchyardCore

/// `switchyard check-config`: validate the configuration and print the resolved routing table.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration and print the resolved routing table."
    )

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config = try options.load()
        print(RoutingTableReport(config: config).text)
        print("")
        print(PriceReport(config: config).text)
        do {
            try config.checkExposure()
        } catch {
            print("\nwarning: `serve` would refuse to start: \(error.message)")
        }
    }
}
