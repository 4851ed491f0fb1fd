import Prometheus
import Synchronization

/// The gateway's duration histograms, exported in Prometheus' text format beside the registry's
/// metrics. A request records four durations; a histogram here records one with a binary search
/// and two relaxed atomic additions, where the registry's takes a lock shared by every event loop
/// and adds to each bucket above the value.
final class LatencyHistograms: Sendable {
    /// The buckets' upper bounds, in nanoseconds, ascending.
    private let bounds: [Int64]
    /// The bounds as the exposition's `le` labels.
    private let boundLabels: [String]
    /// The histograms by family name, families in the order they were first made.
    private let families = Mutex<[(name: String, series: [LatencyHistogram])]>([])

    /// Histograms with `buckets` as upper bounds (sorted here).
    init(buckets: [Duration]) {
        let sorted = buckets.sorted()
        bounds = sorted.map(Self.nanoseconds)
        boundLabels = sorted.map(\.bucketRepresentation)
    }

    /// A new histogram of family `name` with `labels`.
    func make(_ name: String, _ labels: [(String, String)]) -> LatencyHistogram {
        let histogram = LatencyHistogram(labels: Self.render(labels), bounds: bounds)
        families.withLock { families in
            if let index = families.firstIndex(where: { $0.name == name }) {
                families[index].series.append(histogram)
            } else {
                families.append((name, [histogram]))
            }
        }
        return histogram
    }

    /// Appends every histogram's exposition: per family its type line, then per series its
    /// cumulative buckets, `+Inf`, sum and count.
    func emit(into buffer: inout [UInt8]) {
        for (name, series) in families.withLock({ $0 }) {
            buffer.append(contentsOf: "# TYPE \(name) histogram\n".utf8)
            for histogram in series {
                let (counts, sum) = histogram.snapshot()
                var cumulative = 0
                for (index, label) in boundLabels.enumerated() {
                    cumulative += counts[index]
                    line(&buffer, name, "_bucket", histogram.labels, le: label, "\(cumulative)")
                }
                cumulative += counts[bounds.count]
                line(&buffer, name, "_bucket", histogram.labels, le: "+Inf", "\(cumulative)")
                line(&buffer, name, "_sum", histogram.labels, le: nil, Duration.nanoseconds(sum).bucketRepresentation)
                line(&buffer, name, "_count", histogram.labels, le: nil, "\(cumulative)")
            }
        }
    }

    /// One sample line: `name` and `suffix`, the labels (and `le`), the value.
    private func line(
        _ buffer: inout [UInt8], _ name: String, _ suffix: String, _ labels: [UInt8], le: String?, _ value: String
    ) {
        buffer.append(contentsOf: name.utf8)
        buffer.append(contentsOf: suffix.utf8)
        if !labels.isEmpty || le != nil {
            buffer.append(UInt8(ascii: "{"))
            buffer.append(contentsOf: labels)
            if let le {
                if !labels.isEmpty { buffer.append(UInt8(ascii: ",")) }
                buffer.append(contentsOf: "le=\"\(le)\"".utf8)
            }
            buffer.append(UInt8(ascii: "}"))
        }
        buffer.append(UInt8(ascii: " "))
        buffer.append(contentsOf: value.utf8)
        buffer.append(UInt8(ascii: "\n"))
    }

    /// `labels` as the exposition writes them: `name="value"` pairs, comma-separated, with `\`,
    /// `"` and line feeds escaped in the values.
    private static func render(_ labels: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        for (index, (name, value)) in labels.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: "=\"".utf8)
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
                case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
                case UInt8(ascii: "\n"): out.append(contentsOf: #"\n"#.utf8)
                default: out.append(byte)
                }
            }
            out.append(UInt8(ascii: "\""))
        }
        return out
    }

    /// `duration` in whole nanoseconds.
    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// One histogram series: a count per bucket (not cumulative, so a value adds to one) and the sum.
final class LatencyHistogram: Sendable {
    /// One bucket's count, in an object of its own so the array of them can be shared.
    private final class Slot: Sendable {
        let count = Atomic<Int>(0)
    }

    /// The series' labels, rendered.
    let labels: [UInt8]
    private let bounds: [Int64]
    /// A slot per bound, and one past the last for `+Inf`.
    private let slots: [Slot]
    private let sum = Atomic<Int64>(0)

    fileprivate init(labels: [UInt8], bounds: [Int64]) {
        self.labels = labels
        self.bounds = bounds
        slots = (0...bounds.count).map { _ in Slot() }
    }

    /// Records a duration of `nanoseconds`: counted in the first bucket whose bound is not below it.
    func recordNanoseconds(_ nanoseconds: Int64) {
        var (low, high) = (0, bounds.count)
        while low < high {
            let middle = (low + high) / 2
            if bounds[middle] >= nanoseconds { high = middle } else { low = middle + 1 }
        }
        slots[low].count.add(1, ordering: .relaxed)
        sum.add(nanoseconds, ordering: .relaxed)
    }

    /// The buckets' counts (`+Inf`'s last) and the sum in nanoseconds, as they are now.
    fileprivate func snapshot() -> (counts: [Int], sum: Int64) {
        (slots.map { $0.count.load(ordering: .relaxed) }, sum.load(ordering: .relaxed))
    }
}
