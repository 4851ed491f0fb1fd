import Foundation
import SwitchyardTokenizer

// Usage: TokenizerBench CORPUS_DIR
// Prints, per corpus and encoding: bytes, tokens and the best single-thread throughput over
// several rounds, then the load time and resident memory of both encodings.

func residentKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
    return 0
}

let directory = CommandLine.arguments.dropFirst().first ?? "."
let rssBefore = residentKiB()
let loadStart = ContinuousClock.now
let encodings = try EncodingName.allCases.map { try Encoding.named($0) }
let loadTime = ContinuousClock.now - loadStart
let rssAfter = residentKiB()

for corpus in ["prose", "code", "multilingual"] {
    let text = try String(contentsOfFile: "\(directory)/\(corpus).txt", encoding: .utf8)
    let megabytes = Double(text.utf8.count) / 1_000_000
    for encoding in encodings {
        var best = Double.infinity
        var tokens = 0
        for _ in 0..<5 {
            let start = ContinuousClock.now
            tokens = encoding.encode(text).count
            let elapsed = ContinuousClock.now - start
            best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        print(
            "switchyard \(corpus) \(encoding.name.rawValue) bytes=\(text.utf8.count) tokens=\(tokens) mbps=\(String(format: "%.2f", megabytes / best))"
        )
    }
}
let loadMs = Double(loadTime.components.seconds) * 1000 + Double(loadTime.components.attoseconds) / 1e15
print(
    "switchyard load both_ms=\(String(format: "%.0f", loadMs)) rss_mb=\(String(format: "%.1f", Double(rssAfter) / 1024)) rss_added_mb=\(String(format: "%.1f", Double(rssAfter - rssBefore) / 1024))"
)
