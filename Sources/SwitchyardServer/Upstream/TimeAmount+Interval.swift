import NIOCore

extension TimeAmount {
    /// A duration from fractional seconds, as configuration gives them.
    static func interval(_ seconds: Double) -> TimeAmount { .nanoseconds(Int64(seconds * 1e9)) }
}
