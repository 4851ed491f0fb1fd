/// A conversation as providers that want strictly alternating turns take it (Anthropic's
/// messages, Gemini's contents): pieces added for the same role as the last turn join that turn,
/// and an empty addition adds nothing.
struct MergedTurns {
    /// The turns so far: the provider's role name and its pieces (content blocks or parts).
    private(set) var turns: [(role: String, pieces: [JSONValue])] = []

    /// Adds `pieces` for `role`, joining the last turn when it has the same role.
    mutating func append(_ role: String, _ pieces: [JSONValue]) {
        guard !pieces.isEmpty else { return }
        if let last = turns.last, last.role == role {
            turns[turns.count - 1].pieces += pieces
        } else {
            turns.append((role, pieces))
        }
    }

    /// The turns as JSON objects, the pieces under `key`.
    func json(piecesKey key: String) -> JSONValue {
        .array(turns.map { ["role": .string($0.role), key: .array($0.pieces)] })
    }
}
