import Foundation
import NIOCore
import Testing
import _CryptoExtras

@testable import SwitchyardCore

@Suite("Cloud providers: configuration, Azure's and Vertex's addresses, Bedrock's Converse body")
struct CloudAdapterTests {
    static func config(_ yaml: String, environment: [String: String] = [:]) throws -> GatewayConfig {
        let path = try TemporaryFile.write(yaml, suffix: ".yaml")
        return try ConfigLoader(environment: environment, configPath: path).load()
    }

    static func target(_ config: GatewayConfig, _ provider: String, _ model: String) throws -> ModelRouter.Target {
        let endpoint = try #require(config.router.providers[ProviderID(rawValue: provider)])
        return ModelRouter.Target(endpoint: endpoint, requestedModel: model, upstreamModel: model)
    }

    static func chat(_ json: String) throws -> (ChatRequestEnvelope, ByteBuffer) {
        (try ChatRequestEnvelope.parse(Array(json.utf8)), ByteBuffer(string: json))
    }

    static let client = ClientContext(authorization: nil, requestID: "req_1")
    static let hi = #"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#

    @Test("Azure: the deployment URL with api-version and an api-key, or the v1 URL with a bearer token")
    func azure() throws {
        let config = try Self.config(
            """
            providers:
              - {name: az, kind: azure, base_url: "https://res.openai.azure.com", api_key_env: AZ_KEY, deployments: {gpt-4o: prod-4o}}
              - {name: az1, kind: azure, base_url: "https://res.openai.azure.com", api_key_env: AZ_KEY, api_version: v1, auth: bearer}
            """, environment: ["AZ_KEY": "azure-secret"])
        let (chat, body) = try Self.chat(Self.hi)
        let request = try AzureAdapter().chatRequest(
            chat, body: body, target: Self.target(config, "az", "gpt-4o"), client: Self.client)
        #expect(
            request.url
                == "https://res.openai.azure.com:443/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21"
        )
        #expect(request.headers.contains { $0 == ("api-key", "azure-secret") })
        #expect(!request.headers.contains { $0.name == "authorization" })
        let v1 = try AzureAdapter().chatRequest(
            chat, body: body, target: Self.target(config, "az1", "gpt-4o"), client: Self.client)
        #expect(v1.url == "https://res.openai.azure.com:443/openai/v1/chat/completions")
        #expect(v1.headers.contains { $0 == ("authorization", "Bearer azure-secret") })
        #expect(RoutingTableReport(config: config).text.contains("api-key from AZ_KEY, deployments gpt-4o->prod-4o"))
    }

    @Test("Bedrock: the Converse body (system, images, tool uses and results, settings, tools), the signed address")
    func bedrock() throws {
        let config = try Self.config(
            "providers:\n  - {name: br, kind: bedrock, region: eu-west-1}\n",
            environment: ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "tok"])
        let (chat, body) = try Self.chat(
            #"""
            {"model":"m","max_tokens":50,"temperature":0.2,"stop":["END"],"tool_choice":"required",
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
             "messages":[{"role":"system","content":"Be brief."},
              {"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
              {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},
              {"role":"tool","tool_call_id":"call_1","content":"Sunny"}]}
            """#)
        let target = try Self.target(config, "br", "anthropic.claude-3-5-sonnet-20241022-v2:0")
        let request = try BedrockAdapter().chatRequest(chat, body: body, target: target, client: Self.client)
        #expect(
            request.url
                == "https://bedrock-runtime.eu-west-1.amazonaws.com:443/model/anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse"
        )
        guard case .aws(let region, let service, let credentials)? = request.signing else {
            Issue.record("not signed")
            return
        }
        #expect(region == "eu-west-1" && service == "bedrock" && credentials.sessionToken?.value == "tok")
        let native = try JSONParser.parse(request.body!.readableBytesView)
        func item(_ value: JSONValue?, _ index: Int) -> JSONValue? { value?.arrayValue?[index] }
        let messages = native["messages"]
        #expect(native["system"] == [["text": "Be brief."]])
        #expect(
            item(item(messages, 0)?["content"], 1)?["image"] == ["format": "png", "source": ["bytes": "iVBORw0KGgo="]])
        #expect(
            item(item(messages, 1)?["content"], 0)?["toolUse"]
                == ["toolUseId": "call_1", "name": "get_weather", "input": ["city": "Oslo"]])
        #expect(item(item(messages, 2)?["content"], 0)?["toolResult"]?["toolUseId"] == "call_1")
        #expect(
            native["inferenceConfig"] == [
                "maxTokens": .number(50), "temperature": .number(0.2), "stopSequences": ["END"],
            ])
        #expect(native["toolConfig"]?["toolChoice"] == ["any": [:]])
        #expect(item(native["toolConfig"]?["tools"], 0)?["toolSpec"]?["inputSchema"]?["json"]?["type"] == "object")
        let report = RoutingTableReport(config: config).text
        #expect(report.contains("region eu-west-1, AWS credentials from environment") && !report.contains("secret"))
    }

    @Test("Bedrock credentials come from a shared-credentials profile; none at all is refused with how to fix it")
    func awsProfiles() throws {
        let file = try TemporaryFile.write(
            "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s1\n\n[work]\naws_access_key_id=AKIDWORK\naws_secret_access_key=s2\naws_session_token=t2\n",
            suffix: ".ini")
        let config = try Self.config(
            "providers:\n  - {name: br, kind: bedrock, region: us-east-1, profile: work}\n",
            environment: ["AWS_SHARED_CREDENTIALS_FILE": file])
        guard case .bedrock(let access)? = config.router.providers["br"]?.cloud else {
            Issue.record("no bedrock settings")
            return
        }
        #expect(access.credentials.accessKeyID == "AKIDWORK" && access.credentials.sessionToken?.value == "t2")
        #expect(access.source == "profile `work` in \(file)")
        #expect(throws: ConfigError.self) {
            try Self.config(
                "providers:\n  - {name: br, kind: bedrock, region: us-east-1}\n", environment: ["HOME": "/nonexistent"])
        }
        #expect(throws: ConfigError.self) {
            try Self.config(
                "providers:\n  - {name: br, kind: bedrock}\n",
                environment: ["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"])
        }
    }

    @Test("Vertex: Gemini at the publisher's model address, Claude at rawPredict with Vertex's anthropic_version")
    func vertex() throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let file = try TemporaryFile.write(
            #"{"client_email":"gw@p.iam.gserviceaccount.com","private_key":\#(JSONString.quoted(key.pemRepresentation))}"#,
            suffix: ".json")
        let config = try Self.config(
            "providers:\n  - {name: vx, kind: vertex, project: my-project, location: us-east5, credentials_file: \(file)}\n"
        )
        let (stream, body) = try Self.chat(#"{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}"#)
        let gemini = try Self.target(config, "vx", "gemini-2.5-pro")
        let adapter = try #require(AdapterRegistry.standard.adapter(for: gemini))
        let request = try adapter.chatRequest(stream, body: body, target: gemini, client: Self.client)
        #expect(
            request.url
                == "https://us-east5-aiplatform.googleapis.com:443/v1/projects/my-project/locations/us-east5/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
        )
        #expect(!request.headers.contains { $0.name == "x-goog-api-key" })
        let claude = try Self.target(config, "vx", "claude-sonnet-4-5@20250929")
        let claudeAdapter = try #require(AdapterRegistry.standard.adapter(for: claude))
        let raw = try claudeAdapter.chatRequest(stream, body: body, target: claude, client: Self.client)
        #expect(raw.url.hasSuffix("/publishers/anthropic/models/claude-sonnet-4-5%4020250929:streamRawPredict"))
        let native = try JSONParser.parse(raw.body!.readableBytesView)
        #expect(
            native["model"] == nil && native["anthropic_version"] == "vertex-2023-10-16"
                && native["stream"] == .bool(true))
        #expect(!raw.headers.contains { $0.name == "x-api-key" || $0.name == "anthropic-version" })
        guard case .google(let provider, .serviceAccount(let account))? = raw.signing else {
            Issue.record("not authorized by a service account")
            return
        }
        #expect(provider == "vx" && account.clientEmail == "gw@p.iam.gserviceaccount.com")
        #expect(
            RoutingTableReport(config: config).text.contains(
                "project my-project, location us-east5, service account key from \(file)"))
        #expect(throws: ConfigError.self) {
            try Self.config(
                "providers:\n  - {name: vx, kind: vertex, project: p, credentials_file: /nonexistent.json}\n")
        }
    }

    @Test("Cloud models are priced as their makers' models")
    func prices() throws {
        let table = try PriceTable.builtIn()
        func endpoint(_ kind: ProviderKind) -> ProviderEndpoint {
            ProviderEndpoint(
                id: ProviderID(rawValue: kind.rawValue), kind: kind,
                baseURL: UpstreamBaseURL(tls: true, host: "x", port: 443, pathPrefix: ""))
        }
        #expect(
            table.lookup("us.anthropic.claude-3-5-haiku-20241022-v1:0", at: endpoint(.bedrock))
                == table.lookup("claude-3-5-haiku-20241022", at: endpoint(.anthropic)))
        #expect(table.lookup("gpt-4o", at: endpoint(.azure)) == table.lookup("gpt-4o", at: endpoint(.openai)))
        #expect(
            table.lookup("gemini-2.0-flash", at: endpoint(.vertex))
                == table.lookup("gemini-2.0-flash", at: endpoint(.gemini)))
        #expect(table.lookup("meta.llama3-70b-instruct-v1:0", at: endpoint(.bedrock)) == .unpriced)
    }
}
