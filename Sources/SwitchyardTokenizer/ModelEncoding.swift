/// Which encoding a model uses, by name and prefix, as tiktoken's `encoding_for_model` maps them.
public enum ModelEncoding {
    static let exact: [String: EncodingName] = [
        "gpt-4": .cl100kBase, "gpt-3.5-turbo": .cl100kBase, "gpt-3.5": .cl100kBase, "gpt-35-turbo": .cl100kBase,
        "text-embedding-ada-002": .cl100kBase, "text-embedding-3-small": .cl100kBase,
        "text-embedding-3-large": .cl100kBase,
    ]

    /// Prefixes in order; the first that matches wins (so `gpt-4o` is tried before `gpt-4`).
    static let prefixes: [(String, EncodingName)] = [
        ("gpt-4o", .o200kBase), ("gpt-4.1", .o200kBase), ("gpt-4.5", .o200kBase), ("gpt-5", .o200kBase),
        ("gpt-oss", .o200kBase), ("chatgpt-4o", .o200kBase), ("o1", .o200kBase), ("o3", .o200kBase),
        ("o4", .o200kBase), ("gpt-4-", .cl100kBase), ("gpt-3.5-turbo-", .cl100kBase), ("gpt-35-turbo-", .cl100kBase),
        ("text-embedding-", .cl100kBase), ("ft:gpt-4o", .o200kBase), ("ft:gpt-4", .cl100kBase),
        ("ft:gpt-3.5-turbo", .cl100kBase),
    ]

    /// The encoding for `model`. A `provider/` prefix is ignored; models OpenAI does not name
    /// (Gemini, Claude, Llama, …) count with `o200k_base`, the encoding of OpenAI's current
    /// models, as the best available estimate.
    public static func encoding(forModel model: String) -> EncodingName {
        // Without an array of parts, and without a new string when there is no prefix: this runs
        // for every stream charged.
        var name = model
        if let slash = model.utf8.firstIndex(of: UInt8(ascii: "/")) {
            let rest = model.utf8[model.utf8.index(after: slash)...]
            name = String(rest.isEmpty ? model.utf8[..<slash] : rest) ?? model
        }
        if let e = exact[name] { return e }
        for (prefix, e) in prefixes where name.hasPrefix(prefix) { return e }
        return .o200kBase
    }
}
