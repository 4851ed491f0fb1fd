import Foundation
import Logging
import SwitchyardCore
import Synchronization

/// A swift-log handler that writes one JSON object per line (`LOG_FORMAT=json`): `ts`, `level`,
/// `logger`, `message`, then the metadata as top-level string fields, for log pipelines that
/// parse JSON lines.
public struct JSONLogHandler: LogHandler {
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
    /// The minimum level written.
    public var logLevel: Logger.Level = .info
    /// Metadata attached to every line of this handler.
    public var metadata: Logger.Metadata = [:]
    private let sink: Sink

    /// Creates a handler writing to `sink`.
    public init(label: String, sink: Sink = .standardError) {
        self.label = label
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
        var line =
            #"{"ts":"# + JSONString.quoted(Self.timestamp()) + #","level":"#
            + JSONString.quoted(event.level.rawValue) + #","logger":"# + JSONString.quoted(label) + #","message":"#
            + JSONString.quoted("\(event.message)")
        for (key, value) in fields.sorted(by: { $0.key < $1.key })
        where !["ts", "level", "logger", "message"].contains(key) {
            line += "," + JSONString.quoted(key) + ":" + JSONString.quoted("\(value)")
        }
        sink.emit(line + "}\n")
    }

    static func timestamp() -> String {
        Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
