/// A value kept in one shared, immutable box: a struct whose stored fields are many bytes is then
/// copied as one reference (8 bytes, one retain), into async frames and typed-throw slots alike.
/// Setting the value boxes a changed copy, so the struct keeps value semantics.
public struct SharedBox<Value: Sendable>: Sendable {
    /// The box the value is shared in.
    private final class Box: Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    private var box: Box

    /// Boxes `value`.
    public init(_ value: Value) { box = Box(value) }

    /// The value, read from the box; setting it boxes the new one.
    public var value: Value {
        get { box.value }
        set { box = Box(newValue) }
    }
}

extension SharedBox: Equatable where Value: Equatable {
    /// Equal values, whether shared or not.
    public static func == (lhs: SharedBox, rhs: SharedBox) -> Bool { lhs.box === rhs.box || lhs.value == rhs.value }
}
