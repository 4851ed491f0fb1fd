import Synchronization

/// Metric handles by name and label values, made once and then reused: asking the Prometheus
/// registry for a handle validates the name and takes the registry's lock, which is too much to
/// pay several times per request.
final class MetricHandles<Handle: Sendable>: Sendable {
    private struct Key: Hashable {
        let label: String
        let values: [String]
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
        let key = Key(label: label, values: dimensions.map(\.1))
        if let handle = handles.withLock({ $0[key] }) { return handle }
        let handle = make(label, dimensions)
        return handles.withLock { cached in
            if let existing = cached[key] { return existing }
            cached[key] = handle
            return handle
        }
    }
}
