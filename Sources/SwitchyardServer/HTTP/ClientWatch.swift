import NIOCore
import Synchronization

/// The open client connections and, for each, the upstream work to cancel when its client goes.
///
/// The connection guard reports when a client stops sending (its FIN: Hummingbird allows
/// half-closed connections, so that alone does not close the channel) and when the connection
/// closes; a request registers its cancellation while it waits on the upstream and releases it
/// after. Like nginx, a client that shuts its side down is taken as gone. One notice per
/// connection rather than a callback on the close future per request: a keep-alive connection
/// serves many requests, and per-request callbacks pile up until it closes (the streaming soak
/// showed it as steady memory growth).
final class ClientWatch: Sendable {
    /// The process's table; keys are channel identities, removed when the connection closes, so
    /// one table serves every listener.
    static let shared = ClientWatch()

    private enum Entry {
        /// A request's work, cancelled if the client goes before `release`.
        case work(token: UInt64, cancel: @Sendable () -> Void)
        /// The client has gone; the channel is not closed yet.
        case gone
    }

    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])
    private let tokens = Atomic<UInt64>(0)

    /// Calls `cancel` if the client of `channel` goes before `release` with the returned token;
    /// at once when it is gone already. HTTP/1.1 serves one request at a time per connection,
    /// so one entry per channel is enough.
    func watch(_ channel: any Channel, cancel: @escaping @Sendable () -> Void) -> UInt64 {
        let token = tokens.add(1, ordering: .relaxed).newValue
        let gone = entries.withLock { entries in
            let key = ObjectIdentifier(channel)
            if case .gone? = entries[key] { return true }
            entries[key] = .work(token: token, cancel: cancel)
            return false
        }
        // A close reported before the entry existed would have found nothing to cancel.
        if gone {
            cancel()
        } else if !channel.isActive {
            closed(channel)
        }
        return token
    }

    /// Forgets the work of `token` (it ended); a later request's entry stays.
    func release(_ channel: any Channel, token: UInt64) {
        entries.withLock { entries in
            let key = ObjectIdentifier(channel)
            if case .work(token, _)? = entries[key] { entries[key] = nil }
        }
    }

    /// The client stopped sending: cancels the work in progress and any registered later.
    func clientLeft(_ channel: any Channel) {
        let previous = entries.withLock { $0.updateValue(.gone, forKey: ObjectIdentifier(channel)) }
        if case .work(_, let cancel)? = previous { cancel() }
    }

    /// The connection closed: cancels its work, if any, and forgets the channel.
    func closed(_ channel: any Channel) {
        let entry = entries.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
        if case .work(_, let cancel)? = entry { cancel() }
    }

    /// Connections the table holds an entry for (for tests: nothing may be left behind).
    var count: Int { entries.withLock { $0.count } }
}
