import Foundation

/// Files written for one test, under the system temporary directory.
enum TemporaryFile {
    /// Writes `text` to a new file and returns its path.
    static func write(_ text: String, suffix: String) throws -> String {
        let path = NSTemporaryDirectory() + "switchyard-test-\(UUID().uuidString)\(suffix)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
