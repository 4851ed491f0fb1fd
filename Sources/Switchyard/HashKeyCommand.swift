import ArgumentParser
import Foundation
import SwitchyardCore

/// `switchyard hash-key`: prints the SHA-256 of a gateway key read from stdin, for `gateway_keys`.
struct HashKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-key",
        abstract: "Print the SHA-256 of a gateway key read from standard input (for gateway_keys[].sha256).",
        discussion:
            "Surrounding whitespace and the trailing newline are ignored: `echo \"$KEY\" | switchyard hash-key`."
    )

    func run() throws {
        let input = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        let key = input.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !key.isEmpty else {
            printError("switchyard: no key on standard input")
            throw ExitCode(1)
        }
        print(Hashing.sha256Hex(key))
    }
}
