/// The author of a chat message, as the Chat Completions API names them. Adapters switch over it
/// exhaustively, so a role added here is a compile error in every adapter that must map it.
public enum Role: String, Codable, Sendable, CaseIterable {
    case system
    case developer
    case user
    case assistant
    case tool
    /// The older name of `tool` (a function's result).
    case function

    /// The roles as a client reads them in an error message.
    static var listed: String {
        let names = allCases.filter { $0 != .function }.map(\.rawValue)
        return names.dropLast().joined(separator: ", ") + " or " + names.last!
    }
}
