import Synchronization

/// The last log lines written, kept in memory so the admin console can show them: a ring of a
/// fixed number of lines, the oldest overwritten first.
public final class RecentLines: Sendable {
    private struct Ring {
        var lines: [String] = []
        var next = 0
    }

    private let capacity: Int
    private let ring = Mutex(Ring())

    /// A ring of at most `capacity` lines.
    public init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Keeps `line` (its trailing newline dropped).
    public func append(_ line: String) {
        let line = line.hasSuffix("\n") ? String(line.dropLast()) : line
        ring.withLock { ring in
            if ring.lines.count < capacity {
                ring.lines.append(line)
            } else {
                ring.lines[ring.next] = line
            }
            ring.next = (ring.next + 1) % capacity
        }
    }

    /// The kept lines, oldest first.
    public var lines: [String] {
        ring.withLock { ring in
            guard ring.lines.count == capacity else { return ring.lines }
            return Array(ring.lines[ring.next...] + ring.lines[..<ring.next])
        }
    }
}
