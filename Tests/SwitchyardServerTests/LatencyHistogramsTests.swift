import Prometheus
import Testing

@testable import SwitchyardServer

@Suite("Latency histograms")
struct LatencyHistogramsTests {
    static let buckets: [Duration] = [
        .microseconds(50), .milliseconds(1), .milliseconds(250), .seconds(1), .seconds(60),
    ]

    /// Durations on, between, below and above the bounds, in nanoseconds.
    static let recorded: [Int64] = [
        0, 1, 50_000, 50_001, 999_999, 1_000_000, 1_000_001, 249_999_999, 250_000_000, 700_000_000,
        1_000_000_000, 59_999_999_999, 60_000_000_000, 60_000_000_001, 3_600_000_000_000, 1_500,
    ]

    @Test("The exposition is the one swift-prometheus writes for the same durations, series and families")
    func sameExposition() {
        let ours = LatencyHistograms(buckets: Self.buckets.reversed())
        let registry = PrometheusCollectorRegistry()
        let series: [(String, [(String, String)])] = [
            ("switchyard_request_duration_seconds", [("route", "chat"), ("provider", "openai")]),
            ("switchyard_request_duration_seconds", [("route", "messages"), ("provider", #"we"ird\"#)]),
            ("switchyard_gateway_overhead_seconds", [("route", "chat")]),
            ("switchyard_unlabelled_seconds", []),
        ]
        for (offset, (name, labels)) in series.enumerated() {
            let histogram = ours.make(name, labels)
            let reference = registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: ""), labels: labels,
                buckets: Self.buckets)
            // Each series gets a different share of the durations, the last none.
            for nanoseconds in Self.recorded.dropFirst(offset * 3).dropLast(offset == 3 ? Self.recorded.count : 0) {
                histogram.recordNanoseconds(nanoseconds)
                reference.recordNanoseconds(nanoseconds)
            }
        }
        var rendered: [UInt8] = []
        ours.emit(into: &rendered)
        #expect(Self.families(rendered) == Self.families(registry.emitToBuffer()))
        #expect(String(decoding: rendered, as: UTF8.self).contains(#"provider="we\"ird\\""#))
    }

    @Test("Records from many tasks at once are all counted")
    func concurrentRecords() async {
        let histograms = LatencyHistograms(buckets: Self.buckets)
        let histogram = histograms.make("h", [])
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for index in 0..<1_000 { histogram.recordNanoseconds(Int64(task * 1_000 + index) * 100_000) }
                }
            }
        }
        var rendered: [UInt8] = []
        histograms.emit(into: &rendered)
        let text = String(decoding: rendered, as: UTF8.self)
        #expect(text.contains("h_count 8000\n"))
        #expect(text.contains("h_bucket{le=\"+Inf\"} 8000\n"))
        // 100 µs steps: 0 and 100 µs... up to 1 ms is 11 durations, up to 250 ms 2,501.
        #expect(text.contains("h_bucket{le=\"0.001\"} 11\n"))
        #expect(text.contains("h_bucket{le=\"0.25\"} 2501\n"))
        #expect(text.contains("h_sum 3199.6\n"))
    }

    /// The exposition's lines grouped by family, sorted: the order of families, and of the series
    /// within one, is the registry's own.
    static func families(_ exposition: [UInt8]) -> [String: [Substring]] {
        var families: [String: [Substring]] = [:]
        var current = ""
        for line in String(decoding: exposition, as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("# TYPE ") { current = String(line.split(separator: " ")[2]) }
            families[current, default: []].append(line)
        }
        return families.mapValues { $0.sorted() }
    }
}
