import SwitchyardCore
import Synchronization

/// Kept responses in this process, bounded by their total size and their age: the oldest go first
/// when the bytes run out, and none is kept past the age limit.
final class InMemoryResponseStore: ResponseStore {
    private struct Entry {
        var response: StoredResponse
        var bytes: Int
        var expires: ContinuousClock.Instant
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Ids in the order they were kept, oldest first (deleted ids are skipped when met).
        var order: [String] = []
        var head = 0
        var bytes = 0
    }

    private let maxBytes: Int
    private let maxAge: Duration
    private let state = Mutex(State())

    /// A store of at most `maxBytes` of responses, each kept at most `maxAge`.
    init(maxBytes: Int, maxAge: Duration) {
        self.maxBytes = maxBytes
        self.maxAge = maxAge
    }

    func put(_ id: String, _ response: StoredResponse) async {
        let bytes = JSONWriter.bytes(response.json).count
        guard bytes <= maxBytes else { return }
        let now = ContinuousClock.now
        state.withLock { state in
            if let old = state.entries[id] { state.bytes -= old.bytes }
            state.entries[id] = Entry(response: response, bytes: bytes, expires: now + maxAge)
            state.order.append(id)
            state.bytes += bytes
            while state.bytes > maxBytes || expired(state, now: now) { evictOldest(&state) }
        }
    }

    func get(_ id: String) async -> StoredResponse? {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let entry = state.entries[id], entry.expires > now else { return nil }
            return entry.response
        }
    }

    func delete(_ id: String) async -> Bool {
        state.withLock { state in
            guard let entry = state.entries.removeValue(forKey: id) else { return false }
            state.bytes -= entry.bytes
            return true
        }
    }

    /// Whether the oldest entry has outlived its age.
    private func expired(_ state: State, now: ContinuousClock.Instant) -> Bool {
        guard state.head < state.order.count, let entry = state.entries[state.order[state.head]] else {
            return false
        }
        return entry.expires <= now
    }

    private func evictOldest(_ state: inout State) {
        guard state.head < state.order.count else { return }
        let id = state.order[state.head]
        state.head += 1
        if let entry = state.entries.removeValue(forKey: id) { state.bytes -= entry.bytes }
        if state.head > 1024, state.head * 2 > state.order.count {
            state.order.removeFirst(state.head)
            state.head = 0
        }
    }
}
