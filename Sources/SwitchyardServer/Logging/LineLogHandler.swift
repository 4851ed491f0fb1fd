import Foundation
import Logging
import SwitchyardCore
import Synchronization

/// A swift-log handler that writes one line per event: text (`ts level logger: message key=value…`,
/// control characters escaped so a value cannot forge a line) or, with `LOG_FORMAT=json`, one JSON
/// object (`ts`, `level`, `logger`, `message`, then the metadata as top-level string fields) for log
/// pipelines that parse JSON lines.
///
/// Metadata is rendered only when a line is written. Hummingbird sets a request id on the logger of
/// every request; a handler that formats its metadata on every change (swift-log's
/// `StreamLogHandler`) pays for that per request even when nothing is logged.
public struct LineLogHandler: LogHandler {
    /// How lines are written.
    public enum Format: Sendable {
        /// Human-readable text.
        case text
        /// One JSON object per line.
        case json
    }

    /// Where lines go; one lock keeps lines whole when tasks log at once.
    public final class Sink: Sendable {
        private let write: @Sendable (String) -> Void
        private let lock = Mutex(())

        /// A sink that hands each line (with its newline) to `write`.
        public init(_ write: @escaping @Sendable (String) -> Void) { self.write = write }

        /// Standard error.
        public static let standardError = Sink { line in FileHandle.standardError.write(Data(line.utf8)) }

        func emit(_ line: String) { lock.withLock { _ in write(line) } }
    }

    /// The logger label.
    public let label: String
    /// The line format.
    public let format: Format
    /// The minimum level written.
    public var logLevel: Logger.Level = .info
    /// Metadata attached to every line of this handler.
    public var metadata: Logger.Metadata = [:]
    private let sink: Sink

    /// Creates a handler writing `format` lines to `sink`.
    public init(label: String, format: Format, sink: Sink = .standardError) {
        self.label = label
        self.format = format
        self.sink = sink
    }

    /// Metadata by key.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes one line.
    public func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        let sorted = fields.sorted { $0.key < $1.key }
        let timestamp = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        switch format {
        case .text:
            var line = "\(timestamp) \(event.level.rawValue) \(label): \(Self.escaped("\(event.message)"))"
            for (key, value) in sorted { line += " \(Self.escaped(key))=\(Self.escaped("\(value)"))" }
            sink.emit(line + "\n")
        case .json:
            var line =
                #"{"ts":"# + JSONString.quoted(timestamp) + #","level":"# + JSONString.quoted(event.level.rawValue)
                + #","logger":"# + JSONString.quoted(label) + #","message":"#
                + JSONString.quoted("\(event.message)")
            for (key, value) in sorted where !["ts", "level", "logger", "message"].contains(key) {
                line += "," + JSONString.quoted(key) + ":" + JSONString.quoted("\(value)")
            }
            sink.emit(line + "}\n")
        }
    }

    /// `text` with control characters written as escapes (`\n`, `\u001b`), so every event stays one line.
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
