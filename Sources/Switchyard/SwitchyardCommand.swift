import ArgumentParser

/// The `switchyard` command: an OpenAI-compatible AI gateway.
@main
struct SwitchyardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchyard",
        abstract: "An OpenAI-compatible AI gateway for OpenAI, Gemini, Anthropic and Ollama.",
        version: SwitchyardVersion.current,
        subcommands: [
            ServeCommand.self, CheckConfigCommand.self, CountTokensCommand.self, HashKeyCommand.self,
            SpendCommand.self, VersionCommand.self, ProbeCommand.self,
        ],
        defaultSubcommand: ServeCommand.self
    )
}

/// The version string, printed by `switchyard version` and `--version`.
enum SwitchyardVersion {
    static let current = "0.1.0"
}

/// `switchyard version`.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")

    func run() {
        print("switchyard \(SwitchyardVersion.current)")
    }
}
