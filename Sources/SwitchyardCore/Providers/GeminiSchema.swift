/// Cleans a JSON schema into the OpenAPI 3.0 subset Gemini accepts: keeps the keywords it knows,
/// inlines `$ref`s to `$defs`/`definitions`, turns `["T","null"]` types into `nullable`, and
/// `const` into a one-value `enum`.
enum GeminiSchema {
    static let allowed: Set<String> = [
        "type", "format", "title", "description", "nullable", "enum", "properties", "required", "items", "minItems",
        "maxItems", "anyOf", "propertyOrdering", "minimum", "maximum", "minLength", "maxLength", "pattern",
        "minProperties", "maxProperties",
    ]

    /// The cleaned schema.
    static func clean(_ schema: JSONValue) -> JSONValue {
        let root = schema.objectValue ?? [:]
        let definitions = (root["$defs"]?.objectValue ?? [:]).merging(root["definitions"]?.objectValue ?? [:]) { a, _ in
            a
        }
        return clean(schema, definitions: definitions, depth: 0)
    }

    private static func clean(_ schema: JSONValue, definitions: JSONObject, depth: Int) -> JSONValue {
        guard var object = schema.objectValue, depth < 32 else { return schema }
        if let ref = object["$ref"]?.stringValue, let name = ref.split(separator: "/").last,
            let target = definitions[String(name)]
        {
            var merged = target.objectValue ?? [:]
            for (key, value) in object where key != "$ref" { merged[key] = value }
            object = merged
        }
        if let constant = object["const"], object["enum"] == nil { object["enum"] = [constant] }
        if case .array(let types) = object["type"] {
            let nonNull = types.filter { $0 != "null" }
            if nonNull.count < types.count { object["nullable"] = .bool(true) }
            object["type"] = nonNull.first ?? "string"
        }
        var out: JSONObject = [:]
        for (key, value) in object where allowed.contains(key) {
            switch key {
            case "properties":
                out[key] = .object(
                    (value.objectValue ?? [:]).mapValues { clean($0, definitions: definitions, depth: depth + 1) })
            case "items":
                out[key] = clean(value, definitions: definitions, depth: depth + 1)
            case "anyOf":
                out[key] = .array(
                    (value.arrayValue ?? []).map { clean($0, definitions: definitions, depth: depth + 1) })
            case "enum":
                // Gemini enums are strings.
                out[key] = .array(
                    (value.arrayValue ?? []).map { v in
                        v.stringValue.map(JSONValue.string) ?? .string(AdapterSupport.jsonText(v))
                    })
            default:
                out[key] = value
            }
        }
        return .object(out)
    }
}
