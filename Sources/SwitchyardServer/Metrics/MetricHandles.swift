import Synchronization

/// Metric handles by name and label values, made once and then reused: asking the Prometheus
/// registry for a handle validates the name and takes the registry's lock, which is too much to
/// pay several times per request.
final class MetricHandles<Handle: Sendable>: Sendable {
    /// A label and its dimensions' values, compared and hashed in place (no array of the values is
    /// built per lookup).
    private struct Key: Hashable {
        let label: String
        let dimensions: [(String, String)]

        static func == (a: Key, b: Key) -> Bool {
            a.label == b.label && a.dimensions.elementsEqual(b.dimensions) { $0.1 == $1.1 }
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(label)
            for dimension in dimensions { hasher.combine(dimension.1) }
        }
    }

    private let handles = Mutex<[Key: Handle]>([:])
    private let make: @Sendable (String, [(String, String)]) -> Handle

    /// Creates an empty cache that builds a missing handle with `make(label, dimensions)`.
    init(make: @escaping @Sendable (String, [(String, String)]) -> Handle) {
        self.make = make
    }

    /// The handle for `label` with these dimensions (their names must be the same on every call
    /// for one label, as Prometheus requires anyway).
    func callAsFunction(_ label: String, _ dimensions: [(String, String)] = []) -> Handle {
        let key = Key(label: label, dimensions: dimensions)
        if let handle = handles.withLock({ $0[key] }) { return handle }
        let handle = make(label, dimensions)
        return handles.withLock { cached in
            if let existing = cached[key] { return existing }
            cached[key] = handle
            return handle
        }
    }
}
