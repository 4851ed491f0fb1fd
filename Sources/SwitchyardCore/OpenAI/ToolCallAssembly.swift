/// The tool calls of a canonical Chat stream, put together from their fragments for a front door
/// that shows each call as one block or item: which call a fragment belongs to, when a call can be
/// shown (its name is known and no other call is open), and which calls wait for the answer's end
/// (one still without a name, or one the provider interleaves with the open call).
struct ToolCallAssembly: Sendable {
    /// One call, by its Chat index.
    struct Call: Sendable {
        /// The provider's call id (a new one when it gave none).
        var id: String
        /// The function's name, once it arrived.
        var name: String?
        /// The arguments so far.
        var arguments = ""
        /// Whether its block or item has been started.
        var shown = false

        /// Takes a fragment's name (the first non-empty one counts) and arguments; returns whether
        /// the call can be shown (named, not shown yet).
        mutating func add(name: String?, arguments piece: String) -> Bool {
            if self.name == nil, let name, !name.isEmpty { self.name = name }
            arguments += piece
            return !shown && self.name != nil
        }
    }

    /// What a fragment asks of the stream.
    enum Step: Equatable {
        /// Nothing to send yet.
        case wait
        /// Start showing call `index` (its arguments so far go with it).
        case show(Int)
        /// The open call `index` has `fragment` more arguments.
        case append(Int, fragment: String)
    }

    /// The calls, by Chat index.
    private(set) var calls: [Int: Call] = [:]
    /// The call being shown, if one is.
    private(set) var open: Int?
    private var last = 0

    /// Takes one element of a chunk's `delta.tool_calls`.
    mutating func take(_ fragment: JSONValue) -> Step {
        // Without an index: the call before, unless the fragment starts a call with its own id.
        let index = fragment["index"]?.intValue ?? (fragment["id"] != nil && calls[last] != nil ? calls.count : last)
        last = index
        let piece = fragment["function"]?["arguments"]?.stringValue ?? ""
        let isNew = calls[index] == nil
        let name = fragment["function"]?["name"]?.stringValue
        // In place: a call taken out of the dictionary and put back would copy its arguments for
        // every fragment.
        let showable = calls[
            index, default: Call(id: fragment["id"]?.stringValue ?? RandomID.make("call_", length: 24))
        ]
        .add(name: name, arguments: piece)
        if open == index { return .append(index, fragment: piece) }
        return showable && (isNew || open == nil) ? .show(index) : .wait
    }

    /// Call `index` is shown now, and open.
    mutating func shown(_ index: Int) {
        calls[index]?.shown = true
        open = index
    }

    /// The open call has been closed.
    mutating func closed() { open = nil }

    /// The calls never shown, in index order: sent whole when the answer finishes.
    var waiting: [Int] { calls.keys.sorted().filter { calls[$0]?.shown == false } }
}
