import Synchronization

/// The last attempts at each provider, kept so the admin status can show each provider's recent
/// error rate and latency percentiles (Prometheus has the full histograms; this is the glance).
final class ProviderStats: Sendable {
    /// One provider's ring of recent attempts.
    private struct Ring {
        var seconds: [Double] = []
        var failed: [Bool] = []
        var next = 0

        /// Adds an attempt, over the oldest once the ring is full.
        mutating func record(seconds: Double?) {
            if self.seconds.count < ProviderStats.capacity {
                self.seconds.append(seconds ?? 0)
                failed.append(seconds == nil)
            } else {
                self.seconds[next] = seconds ?? 0
                failed[next] = seconds == nil
            }
            next = (next + 1) % ProviderStats.capacity
        }
    }

    /// A provider's recent figures.
    struct Summary: Sendable {
        /// The provider.
        var provider: String
        /// Attempts in the ring.
        var attempts: Int
        /// The share of them that failed.
        var errorRate: Double
        /// Median time to the answer's head, in seconds (failures excluded).
        var p50: Double?
        /// 95th percentile, in seconds.
        var p95: Double?
        /// 99th percentile, in seconds.
        var p99: Double?
    }

    /// Attempts kept per provider.
    static let capacity = 512
    private let rings = Mutex<[String: Ring]>([:])

    /// Records one attempt: its time to the answer's head, or a failure.
    func record(provider: String, seconds: Double?) {
        // In place: a ring taken out of the dictionary and put back would copy its arrays.
        rings.withLock { $0[provider, default: Ring()].record(seconds: seconds) }
    }

    /// Every provider's summary, by name.
    func summaries() -> [Summary] {
        rings.withLock { $0 }.map { provider, ring in
            let times = zip(ring.seconds, ring.failed).filter { !$0.1 }.map(\.0).sorted()
            func percentile(_ p: Double) -> Double? {
                times.isEmpty ? nil : times[min(times.count - 1, Int((Double(times.count) * p).rounded(.down)))]
            }
            let failures = ring.failed.filter { $0 }.count
            return Summary(
                provider: provider, attempts: ring.failed.count,
                errorRate: ring.failed.isEmpty ? 0 : Double(failures) / Double(ring.failed.count),
                p50: percentile(0.5), p95: percentile(0.95), p99: percentile(0.99))
        }.sorted { $0.provider < $1.provider }
    }
}
