import ArgumentParser
import Foundation
import SwitchyardTokenizer

/// `switchyard count-tokens`: reads all of standard input and prints its exact token count (or ids).
struct CountTokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "count-tokens",
        abstract: "Count the tokens of standard input as tiktoken's encode_ordinary would.",
        discussion: """
            Standard input is read whole, byte for byte, as UTF-8 (invalid sequences become U+FFFD, \
            as Python's errors="replace" does). Unknown models count with o200k_base.
            """
    )

    @Option(name: .long, help: "Model whose encoding to use (e.g. gpt-4o, gpt-4, text-embedding-3-small).")
    var model: String?

    @Option(name: .long, help: "Encoding to use instead of a model's: cl100k_base or o200k_base.")
    var encoding: String?

    @Flag(name: .long, help: "Print the token ids, space-separated, instead of the count.")
    var ids = false

    func run() throws {
        let name: EncodingName
        if let encoding {
            guard let known = EncodingName(rawValue: encoding) else {
                let names = EncodingName.allCases.map(\.rawValue).joined(separator: ", ")
                printError("switchyard: unknown encoding `\(encoding)`; expected one of: \(names)")
                throw ExitCode(1)
            }
            name = known
        } else if let model {
            name = ModelEncoding.encoding(forModel: model)
        } else {
            printError("switchyard: give --model M or --encoding E")
            throw ExitCode(1)
        }
        let tokenizer: Encoding
        do {
            tokenizer = try Encoding.named(name)
        } catch {
            printError("switchyard: \(error)")
            throw ExitCode(1)
        }
        let input = FileHandle.standardInput.readDataToEndOfFile()
        let text = String(decoding: input, as: UTF8.self)
        if ids {
            print(tokenizer.encode(text).map(String.init).joined(separator: " "))
        } else {
            print(tokenizer.count(text))
        }
    }
}
