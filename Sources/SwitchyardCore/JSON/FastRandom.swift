import Synchronization

/// Cheap random numbers for identifiers, jitter and weighted picks, where unpredictability to an
/// attacker does not matter. The system generator costs a `getrandom` system call per number;
/// this one draws a seed once and then hashes a shared counter (SplitMix64), so every value
/// in a process is distinct and each costs one atomic add.
public enum FastRandom {
    private static let seed: UInt64 = {
        var system = SystemRandomNumberGenerator()
        return system.next()
    }()
    private static let counter = Atomic<UInt64>(0)

    /// The next 64 random bits.
    public static func next() -> UInt64 {
        let step = counter.add(1, ordering: .relaxed).newValue
        return mix(seed &+ step &* 0x9E37_79B9_7F4A_7C15)
    }

    /// A number in 0..<1 with 53 random bits.
    public static func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// SplitMix64's finalizer: a bijection on 64 bits that spreads every input bit over the output
    /// (also what seeded generators in the tests step through).
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
