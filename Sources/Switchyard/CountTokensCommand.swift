import ArgumentParser

/// `switchyard count-tokens`: filled in with the tokenizer.
struct CountTokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "count-tokens", abstract: "Count tokens.")
}
