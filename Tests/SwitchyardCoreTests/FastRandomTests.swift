import Foundation
import Testing

@testable import SwitchyardCore

@Suite("Cheap random numbers and identifiers")
struct FastRandomTests {
    @Test("Values never repeat within a process, from many tasks at once")
    func distinct() async {
        let batches = await withTaskGroup(of: [UInt64].self) { group in
            for _ in 0..<8 { group.addTask { (0..<10_000).map { _ in FastRandom.next() } } }
            return await group.reduce(into: [[UInt64]]()) { $0.append($1) }
        }
        let all = batches.flatMap { $0 }
        #expect(Set(all).count == 80_000)
        let ids = (0..<10_000).map { _ in RandomID.make("req_") }
        #expect(Set(ids).count == ids.count)
        #expect(
            ids.allSatisfy { $0.utf8.count == 36 && $0.hasPrefix("req_") && $0.dropFirst(4).allSatisfy(\.isHexDigit) })
        #expect(ids.allSatisfy { $0 == $0.lowercased() })
        let short = RandomID.make("call_", length: 21)
        #expect(short.utf8.count == 26 && short.hasPrefix("call_") && short.dropFirst(5).allSatisfy(\.isHexDigit))
    }

    @Test("Time-ordered ids sort by the time they carry, and still differ within one instant")
    func timeOrdered() {
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        let ids = (0..<1_000).map { RandomID.timeOrdered("sr_", now: start.addingTimeInterval(Double($0) * 0.001)) }
        #expect(ids == ids.sorted())
        #expect(ids.allSatisfy { $0.utf8.count == 35 && $0.dropFirst(3).allSatisfy(\.isHexDigit) })
        #expect(ids[0].dropFirst(3).prefix(16) == String(UInt64(1_790_000_000) * 1_000_000_000, radix: 16).padded(16))
        let sameInstant = (0..<1_000).map { _ in RandomID.timeOrdered("sr_", now: start) }
        #expect(Set(sameInstant).count == 1_000)
    }

    @Test("unit() stays in 0..<1 and spreads evenly over ten bins")
    func uniform() {
        var bins = [Int](repeating: 0, count: 10)
        for _ in 0..<100_000 {
            let value = FastRandom.unit()
            #expect(value >= 0 && value < 1)
            bins[Int(value * 10)] += 1
        }
        // Expected 10,000 per bin; a fair source stays within 5% with overwhelming probability.
        #expect(bins.allSatisfy { abs($0 - 10_000) < 500 }, "\(bins)")
    }

    @Test("Every bit of the output depends on the counter: consecutive values differ in about half their bits")
    func avalanche() {
        var flips = 0
        var previous = FastRandom.mix(0)
        for step in 1...1_000 as ClosedRange<UInt64> {
            let value = FastRandom.mix(step)
            flips += (value ^ previous).nonzeroBitCount
            previous = value
        }
        #expect(abs(Double(flips) / 1_000 - 32) < 2)
    }
}

extension String {
    /// The string with zeros in front up to `width` characters.
    fileprivate func padded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
