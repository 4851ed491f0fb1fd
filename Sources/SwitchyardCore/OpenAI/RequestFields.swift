/// A request body's top-level JSON object, read field by field with the same 400 answers
/// `RequestDecoding` gives: missing, null and mistyped fields are named, so a client can fix them.
/// Built on `JSONParser`, for the hot path that must not pay for `Decodable`.
public struct RequestFields {
    private let object: JSONObject
    private let path: String
    /// Whether every later reader may take the object as parsed (no lone surrogate, which
    /// `JSONDecoder` would refuse where the tree holds U+FFFD).
    private var regular = false

    /// The whole object of a body parsed here, when later readers may take it as parsed.
    public var document: JSONObject? { regular ? object : nil }

    /// Parses `body`, which must be one JSON object.
    /// - Throws: a 400 `GatewayError` for an empty body, invalid JSON or a non-object.
    public init(_ body: some Collection<UInt8>) throws(GatewayError) {
        if body.isEmpty {
            throw .invalidRequest("The request body is empty; expected a JSON object.")
        }
        let parsed: (value: JSONValue, irregular: Bool)
        do {
            parsed = try JSONParser.parseNotingIrregularities(body)
        } catch {
            throw RequestDecoding.invalidJSON(error)
        }
        guard let object = parsed.value.objectValue else {
            throw .invalidRequest("The request body must be a JSON object.")
        }
        self.init(object: object, path: "")
        regular = !parsed.irregular
    }

    /// Reads a nested object whose fields are named under `path` in errors.
    public init(object: JSONObject, path: String) {
        self.object = object
        self.path = path
    }

    /// The field `name`, which must be present, not null and of the type `read` extracts.
    public func required<T>(_ name: String, _ read: (JSONValue) -> T?, _ expected: String) throws(GatewayError) -> T {
        guard let value = object[name] else {
            throw .invalidRequest("Missing required parameter: `\(field(name))`.", param: field(name))
        }
        if value == .null {
            throw .invalidRequest("`\(field(name))` must not be null; expected \(expected).", param: field(name))
        }
        return try typed(name, value, read, expected)
    }

    /// The field `name` when present and not null; it must then be of the type `read` extracts.
    public func optional<T>(_ name: String, _ read: (JSONValue) -> T?, _ expected: String) throws(GatewayError) -> T? {
        guard let value = object[name], value != .null else { return nil }
        return try typed(name, value, read, expected)
    }

    private func typed<T>(
        _ name: String, _ value: JSONValue, _ read: (JSONValue) -> T?, _ expected: String
    )
        throws(GatewayError) -> T
    {
        guard let typed = read(value) else {
            throw .invalidRequest("Invalid type for `\(field(name))`: expected \(expected).", param: field(name))
        }
        return typed
    }

    private func field(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }
}
