import Crypto
import Foundation
import _CryptoExtras

/// A Google service account's key (the JSON file Google Cloud hands out): who it is, the private
/// key that signs its token requests, and where tokens are minted. The JWT it signs (RS256) is
/// exchanged for a short-lived access token by the server.
public struct GoogleServiceAccount: Sendable, Equatable {
    /// `client_email`: the account.
    public var clientEmail: String
    /// `private_key`: the RSA key, PEM.
    public var privateKey: Secret
    /// `private_key_id`, named in the JWT header.
    public var privateKeyID: String?
    /// `token_uri`: where the JWT is exchanged (`https://oauth2.googleapis.com/token`).
    public var tokenURI: String

    /// The OAuth scope asked for: Vertex AI's.
    public static let scope = "https://www.googleapis.com/auth/cloud-platform"

    /// The account in a key file's JSON; nil when it is not a service account key.
    public init?(json: [UInt8]) {
        guard let object = (try? JSONParser.parse(json))?.objectValue,
            let email = object["client_email"]?.stringValue, let key = object["private_key"]?.stringValue
        else { return nil }
        clientEmail = email
        privateKey = Secret(key)
        privateKeyID = object["private_key_id"]?.stringValue
        tokenURI = object["token_uri"]?.stringValue ?? "https://oauth2.googleapis.com/token"
    }

    /// The signed JWT asking for an access token, valid for an hour from `now`.
    /// - Throws: when the private key cannot be read or sign.
    public func assertion(now: Date) throws -> String {
        var header: JSONObject = ["alg": "RS256", "typ": "JWT"]
        header.set("kid", privateKeyID.map(JSONValue.string))
        let issued = Int(now.timeIntervalSince1970)
        let claims: JSONValue = [
            "iss": .string(clientEmail), "scope": .string(Self.scope), "aud": .string(tokenURI),
            "iat": .number(Double(issued)), "exp": .number(Double(issued + 3600)),
        ]
        let input = Self.base64URL(JSONWriter.bytes(.object(header))) + "." + Self.base64URL(JSONWriter.bytes(claims))
        let key = try _RSA.Signing.PrivateKey(pemRepresentation: privateKey.value)
        let signature = try key.signature(for: Array(input.utf8), padding: .insecurePKCS1v1_5)
        return input + "." + Self.base64URL(Array(signature.rawRepresentation))
    }

    /// Base64 with `-`, `_` and no padding, as JWTs write it.
    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    public static func == (lhs: GoogleServiceAccount, rhs: GoogleServiceAccount) -> Bool {
        lhs.clientEmail == rhs.clientEmail && lhs.privateKey == rhs.privateKey && lhs.tokenURI == rhs.tokenURI
    }
}
