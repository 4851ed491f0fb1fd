import Foundation

/// Decodes client request bodies and turns decoding failures into 400 errors that name the field.
public enum RequestDecoding {
    /// Decodes `T` from `body` or throws a 400 `GatewayError` naming what is wrong.
    /// `tree`, when given, is the body already parsed: it is walked instead of parsing again.
    public static func decode<T: Decodable>(
        _ body: Data, tree: JSONValue? = nil, as type: T.Type = T.self
    ) throws(GatewayError) -> T {
        if body.isEmpty {
            throw .invalidRequest("The request body is empty; expected a JSON object.")
        }
        do {
            return try JSONTreeDecoder.decode(T.self, tree: tree, orBytes: body)
        } catch let error as DecodingError {
            throw .invalidRequest(describe(error), param: param(of: error))
        } catch let error as JSONParser.Failure {
            throw invalidJSON(error)
        } catch {
            throw .invalidRequest("The request body is not valid JSON.")
        }
    }

    /// The 400 for a body `JSONParser` refused: one that names the member an object repeated, or
    /// the plain "not valid JSON".
    public static func invalidJSON(_ failure: JSONParser.Failure) -> GatewayError {
        guard let key = failure.repeatedKey else { return .invalidRequest("The request body is not valid JSON.") }
        return .invalidRequest(
            "The request body repeats the member `\(key)` in one object; each name may appear only once.",
            param: key)
    }

    static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }
            .joined()
            .trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }

    static func param(of error: DecodingError) -> String? {
        switch error {
        case .keyNotFound(let key, let ctx):
            let p = path(ctx.codingPath + [key])
            return p.isEmpty ? nil : p
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx):
            let p = path(ctx.codingPath)
            return p.isEmpty ? nil : p
        default:
            return nil
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let ctx):
            let field = path(ctx.codingPath + [key])
            return "Missing required parameter: `\(field)`."
        case .typeMismatch(let type, let ctx):
            let field = path(ctx.codingPath)
            if field.isEmpty { return "The request body must be a JSON object." }
            return "Invalid type for `\(field)`: expected \(typeName(type))."
        case .valueNotFound(let type, let ctx):
            return "`\(path(ctx.codingPath))` must not be null; expected \(typeName(type))."
        case .dataCorrupted:
            return "The request body is not valid JSON."
        @unknown default:
            return "The request body could not be decoded."
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        case is Int.Type, is Double.Type: return "a number"
        case is [JSONValue].Type: return "an array"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") { return "an array" }
            return "an object"
        }
    }
}
