import Foundation
import Testing

@testable import SwitchyardCore

@Suite("Gateway keys")
struct SecurityTests {
    @Test(
        "SHA-256 matches the FIPS 180-4 test vectors",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
            (String(repeating: "a", count: 1000), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"),
        ])
    func sha256(input: String, expected: String) {
        #expect(Hashing.sha256Hex(input) == expected)
    }

    @Test(
        "SHA-1 (for EVALSHA script names) matches the FIPS 180-4 test vectors",
        arguments: [
            ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
            ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
        ])
    func sha1(input: String, expected: String) {
        #expect(Hashing.sha1Hex(input) == expected)
    }

    static let keyring = GatewayKeyring(keys: [
        GatewayKey(name: "team", digest: Hashing.sha256(Array("sk-team".utf8))),
        GatewayKey(name: "mini", digest: Hashing.sha256(Array("sk-mini".utf8)), models: [ModelPattern("gpt-4o-mini")]),
        GatewayKey(name: "old", digest: Hashing.sha256(Array("sk-old".utf8)), expires: Date(timeIntervalSince1970: 1)),
    ])

    @Test("The right key authenticates; missing, wrong and expired keys are 401")
    func authenticate() throws {
        #expect(try Self.keyring.authenticate("sk-team").name == "team")
        for secret in [nil, "", "sk-tea", "sk-team2", "SK-TEAM", "sk-old"] as [String?] {
            #expect {
                try Self.keyring.authenticate(secret)
            } throws: { ($0 as? GatewayError)?.status == 401 }
        }
    }

    @Test("A key limited to some models gets 403 for others")
    func authorize() throws {
        let mini = try Self.keyring.authenticate("sk-mini")
        try Self.keyring.authorize(mini, model: "gpt-4o-mini")
        #expect {
            try Self.keyring.authorize(mini, model: "gpt-4o")
        } throws: { ($0 as? GatewayError)?.status == 403 }
    }

    @Test("Keys are read from Authorization: Bearer, else x-api-key")
    func presented() {
        #expect(GatewayKeyring.presentedKey(authorization: "Bearer abc", apiKeyHeader: nil) == "abc")
        #expect(GatewayKeyring.presentedKey(authorization: "bearer  abc ", apiKeyHeader: nil) == "abc")
        #expect(GatewayKeyring.presentedKey(authorization: nil, apiKeyHeader: "xyz") == "xyz")
        #expect(GatewayKeyring.presentedKey(authorization: "Basic Zm9v", apiKeyHeader: "xyz") == "xyz")
    }

    @Test("Config: keys by hash or environment variable, model lists and expiry; mistakes are named")
    func config() throws {
        let yaml = """
            gateway_keys:
              - name: a
                sha256: \(Hashing.sha256Hex("sk-a"))
              - name: b
                key_env: B_KEY
                models: ["gpt-4o-mini"]
                expires: 2999-01-31
            """
        let path = try TemporaryFile.write(yaml, suffix: ".yaml")
        let config = try ConfigLoader(environment: ["B_KEY": "sk-b"], configPath: path).load()
        #expect(try config.keyring.authenticate("sk-a").name == "a")
        let b = try config.keyring.authenticate("sk-b")
        #expect(b.models == [ModelPattern("gpt-4o-mini")])
        #expect(b.expires == ISO8601DateFormatter().date(from: "2999-01-31T00:00:00Z"))
        for (bad, message) in [
            ("gateway_keys:\n  - name: a\n    sha256: xyz", "64 hex digits"),
            ("gateway_keys:\n  - name: a\n    key_env: UNSET_KEY_VAR", "UNSET_KEY_VAR, which is not set"),
            ("gateway_keys:\n  - name: a", "exactly one of sha256 and key_env"),
            ("gateway_keys:\n  - name: a\n    key_env: B_KEY\n    expires: soon", "not an ISO 8601 date"),
        ] {
            let p = try TemporaryFile.write(bad, suffix: ".yaml")
            #expect {
                try ConfigLoader(environment: ["B_KEY": "x"], configPath: p).load()
            } throws: { ($0 as? ConfigError)?.message.contains(message) == true }
        }
    }

    @Test("Server-side provider keys without gateway keys are refused unless explicitly allowed")
    func exposure() throws {
        #expect(throws: Never.self) { try ConfigLoader(environment: [:]).load().checkExposure() }
        #expect(throws: ConfigError.self) {
            try ConfigLoader(environment: ["GEMINI_API_KEY": "g"]).load().checkExposure()
        }
        #expect(throws: Never.self) {
            try ConfigLoader(environment: ["GEMINI_API_KEY": "g", "ALLOW_UNAUTHENTICATED": "true"]).load()
                .checkExposure()
        }
        let path = try TemporaryFile.write(
            "gateway_keys:\n  - name: a\n    sha256: \(Hashing.sha256Hex("k"))", suffix: ".yaml")
        #expect(throws: Never.self) {
            try ConfigLoader(environment: ["GEMINI_API_KEY": "g"], configPath: path).load().checkExposure()
        }
    }
}
