import Crypto
import Foundation
import Testing
import _CryptoExtras

@testable import SwitchyardCore

@Suite("Cloud credentials: AWS Signature Version 4 against AWS's test suite, Google service-account JWTs")
struct CloudSigningTests {
    static let suite = AWSCredentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"))
    static let at = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z

    static func authorization(
        _ method: String, _ url: String, body: String = "", credentials: AWSCredentials = suite
    )
        -> [(name: String, value: String)]
    {
        AWSSigV4.sign(
            method: method, url: url, headers: [], body: Array(body.utf8), credentials: credentials,
            region: "us-east-1",
            service: "service", date: at)
    }

    @Test(
        "AWS's get-vanilla, post-vanilla and get-vanilla-query-order-key-case",
        arguments: [
            (
                "GET", "https://example.amazonaws.com/",
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
            ),
            (
                "POST", "https://example.amazonaws.com/",
                "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
            ),
            (
                "GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1",
                "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
            ),
        ])
    func testSuite(method: String, url: String, signature: String) {
        let headers = Self.authorization(method, url)
        #expect(headers.first { $0.name == "x-amz-date" }?.value == "20150830T123600Z")
        #expect(
            headers.first { $0.name == "authorization" }?.value
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=\(signature)"
        )
    }

    @Test("Temporary credentials sign their session token; a default port is not part of the host")
    func sessionToken() {
        var temporary = Self.suite
        temporary.sessionToken = Secret("session-token")
        let headers = Self.authorization("GET", "https://example.amazonaws.com:443/", credentials: temporary)
        #expect(headers.contains { $0 == ("x-amz-security-token", "session-token") })
        #expect(
            headers.first { $0.name == "authorization" }?.value.contains(
                "SignedHeaders=host;x-amz-date;x-amz-security-token") == true)
        // Same request without the port: the same signature.
        let plain = Self.authorization("GET", "https://example.amazonaws.com/", credentials: temporary)
        #expect(plain.last?.value == headers.last?.value)
    }

    @Test("Model ids with `:` and `/` and inference-profile ARNs are one segment, signed encoded twice")
    func modelIDs() {
        #expect(
            AWSSigV4.encode("anthropic.claude-3-5-sonnet-20241022-v2:0")
                == "anthropic.claude-3-5-sonnet-20241022-v2%3A0")
        #expect(
            AWSSigV4.encode("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku")
                == "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-haiku")
        #expect(AWSSigV4.canonicalPath("/model/a%3A0/converse") == "/model/a%253A0/converse")
        #expect(AWSSigV4.canonicalPath("") == "/")
    }

    @Test("A service account's JWT is RS256 over its claims and verifies with its public key")
    func serviceAccountJWT() throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let file = """
            {"type":"service_account","client_email":"gw@project.iam.gserviceaccount.com","private_key_id":"k1",
             "private_key":\(JSONString.quoted(key.pemRepresentation)),"token_uri":"https://oauth2.example/token"}
            """
        let account = try #require(GoogleServiceAccount(json: Array(file.utf8)))
        let jwt = try account.assertion(now: Date(timeIntervalSince1970: 1_800_000_000))
        let parts = jwt.split(separator: ".").map(String.init)
        #expect(parts.count == 3)
        func decode(_ text: String) -> [UInt8] {
            var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while base64.count % 4 != 0 { base64 += "=" }
            return Array(Data(base64Encoded: base64) ?? Data())
        }
        let header = try JSONParser.parse(decode(parts[0]))
        let claims = try JSONParser.parse(decode(parts[1]))
        #expect(header["alg"] == "RS256" && header["kid"] == "k1")
        #expect(
            claims["iss"] == "gw@project.iam.gserviceaccount.com" && claims["aud"] == "https://oauth2.example/token")
        #expect(claims["scope"] == .string(GoogleServiceAccount.scope))
        #expect(claims["exp"]?.intValue == 1_800_003_600)
        let signature = _RSA.Signing.RSASignature(rawRepresentation: decode(parts[2]))
        #expect(
            key.publicKey.isValidSignature(
                signature, for: Array("\(parts[0]).\(parts[1])".utf8), padding: .insecurePKCS1v1_5))
        #expect(GoogleServiceAccount(json: Array(#"{"client_email":"x"}"#.utf8)) == nil)
    }
}
