/// Byte-pair merging of one piece, as tiktoken's `_byte_pair_merge`: repeatedly merge the
/// adjacent pair with the lowest rank (the leftmost on ties) until no pair is a token.
struct BytePairEncoder {
    /// Part boundaries and the rank of the pair starting at each; reused across pieces.
    private var starts: [Int] = []
    private var ranks: [UInt32] = []

    /// Pieces at least this long use the heap-based merge, which is O(n log n) instead of O(n²).
    static let longPiece = 128

    /// Calls `emit` with the ranks of the tokens of `piece`, in order: a piece of at least two
    /// bytes that is not one token (the caller has looked the whole piece up).
    @inline(never)
    mutating func merge(_ piece: UnsafePointer<UInt8>, _ length: Int, table: RankTable, emit: (UInt32) -> Void) {
        if length >= Self.longPiece {
            LongPieceMerger.encode(piece, length, table: table, emit: emit)
            return
        }
        starts.removeAll(keepingCapacity: true)
        ranks.removeAll(keepingCapacity: true)
        for i in 0..<(length - 1) {
            starts.append(i)
            ranks.append(table.pairRanks[Int(piece[i]) << 8 | Int(piece[i + 1])])
        }
        starts.append(length - 1)
        ranks.append(RankTable.none)
        starts.append(length)
        ranks.append(RankTable.none)

        while true {
            var minRank = RankTable.none
            var minIndex = 0
            for i in 0..<(ranks.count - 1) where ranks[i] < minRank {
                minRank = ranks[i]
                minIndex = i
            }
            if minRank == RankTable.none { break }
            // Merge parts minIndex and minIndex + 1, then re-rank the neighbours.
            starts.remove(at: minIndex + 1)
            ranks.remove(at: minIndex + 1)
            ranks[minIndex] = rankOfSpan(minIndex, piece, table)
            if minIndex > 0 { ranks[minIndex - 1] = rankOfSpan(minIndex - 1, piece, table) }
        }
        for i in 0..<(starts.count - 1) {
            emit(table.rank(piece + starts[i], starts[i + 1] - starts[i]))
        }
    }

    /// The rank of parts `i` and `i + 1` merged, or none when there is no part `i + 1`.
    @inline(__always)
    private func rankOfSpan(_ i: Int, _ piece: UnsafePointer<UInt8>, _ table: RankTable) -> UInt32 {
        guard i + 2 < starts.count else { return RankTable.none }
        return table.rank(piece + starts[i], starts[i + 2] - starts[i])
    }
}

/// The same merge for long pieces, with a linked list of parts and a min-heap of candidate
/// pairs ordered by (rank, position), so the merge order, and so the result, is identical.
enum LongPieceMerger {
    static func encode(_ piece: UnsafePointer<UInt8>, _ length: Int, table: RankTable, emit: (UInt32) -> Void) {
        // Parts are identified by their start offset; next/prev link live parts.
        var next = Array(1...length)
        var prev = Array(-1..<(length - 1))
        var alive = [Bool](repeating: true, count: length)
        // Current rank of the pair starting at each part, to detect stale heap entries.
        var pairRank = [UInt32](repeating: RankTable.none, count: length)
        var heap = MinHeap()
        func rankAt(_ start: Int) -> UInt32 {
            let second = next[start]
            guard second < length else { return RankTable.none }
            return table.rank(piece + start, next[second] - start)
        }
        for i in 0..<(length - 1) {
            let r = table.pairRanks[Int(piece[i]) << 8 | Int(piece[i + 1])]
            pairRank[i] = r
            if r != RankTable.none { heap.push(r, i) }
        }
        while let (rank, start) = heap.pop() {
            guard alive[start], pairRank[start] == rank else { continue }
            let second = next[start]
            // Merge `second` into `start`.
            alive[second] = false
            next[start] = next[second]
            if next[second] < length { prev[next[second]] = start }
            pairRank[start] = rankAt(start)
            if pairRank[start] != RankTable.none { heap.push(pairRank[start], start) }
            let before = prev[start]
            if before >= 0 {
                pairRank[before] = rankAt(before)
                if pairRank[before] != RankTable.none { heap.push(pairRank[before], before) }
            }
        }
        var start = 0
        while start < length {
            emit(table.rank(piece + start, next[start] - start))
            start = next[start]
        }
    }

    /// A binary min-heap of (rank, position), smallest rank first, then leftmost.
    struct MinHeap {
        private var items: [UInt64] = []

        mutating func push(_ rank: UInt32, _ position: Int) {
            items.append(UInt64(rank) << 32 | UInt64(position))
            var i = items.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard items[i] < items[parent] else { break }
                items.swapAt(i, parent)
                i = parent
            }
        }

        mutating func pop() -> (UInt32, Int)? {
            guard let top = items.first else { return nil }
            let last = items.removeLast()
            if !items.isEmpty {
                items[0] = last
                var i = 0
                while true {
                    let l = 2 * i + 1
                    let r = l + 1
                    var m = i
                    if l < items.count, items[l] < items[m] { m = l }
                    if r < items.count, items[r] < items[m] { m = r }
                    if m == i { break }
                    items.swapAt(i, m)
                    i = m
                }
            }
            return (UInt32(top >> 32), Int(top & 0xFFFF_FFFF))
        }
    }
}
