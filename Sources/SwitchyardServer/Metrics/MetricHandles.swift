import Synchronization

/// Metric handles by key, made once and then reused: asking the Prometheus registry for a handle
/// validates the name and takes the registry's lock, which is too much to pay several times per
/// request.
final class MetricHandles<Key: Hashable & Sendable, Handle: Sendable>: Sendable {
    private let handles = Mutex<[Key: Handle]>([:])
    private let make: @Sendable (Key) -> Handle

    /// Creates an empty cache that builds a missing handle with `make(key)`.
    init(make: @escaping @Sendable (Key) -> Handle) {
        self.make = make
    }

    /// The handle for `key`, made on first use.
    func callAsFunction(_ key: Key) -> Handle {
        if let handle = handles.withLock({ $0[key] }) { return handle }
        let handle = make(key)
        return handles.withLock { cached in
            if let existing = cached[key] { return existing }
            cached[key] = handle
            return handle
        }
    }
}

/// A metric's label and its dimensions' values, compared and hashed in place (no array of the
/// values is built per lookup). The dimensions' names must be the same on every use of one label,
/// as Prometheus requires anyway.
struct MetricKey: Hashable, Sendable {
    let label: String
    let dimensions: [(String, String)]

    static func == (a: MetricKey, b: MetricKey) -> Bool {
        a.label == b.label && a.dimensions.elementsEqual(b.dimensions) { $0.1 == $1.1 }
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(label)
        for dimension in dimensions { hasher.combine(dimension.1) }
    }
}

extension MetricHandles where Key == MetricKey {
    /// The handle for `label` with these dimensions.
    func callAsFunction(_ label: String, _ dimensions: [(String, String)] = []) -> Handle {
        self(MetricKey(label: label, dimensions: dimensions))
    }
}
