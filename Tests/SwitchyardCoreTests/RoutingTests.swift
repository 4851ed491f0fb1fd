import Testing

@testable import SwitchyardCore

@Suite("Routing")
struct RoutingTests {
    static func router(file: String? = nil) throws -> ModelRouter {
        var loader = ConfigLoader(environment: ["VLLM_KEY": "k"])
        if let file {
            let path = try TemporaryFile.write(file, suffix: ".yaml")
            loader.configPath = path
        }
        return try loader.load().router
    }

    @Test(
        "The contract's default table",
        arguments: [
            ("gpt-4o", "openai", "gpt-4o"),
            ("gpt-3.5-turbo", "openai", "gpt-3.5-turbo"),
            ("o1-mini", "openai", "o1-mini"),
            ("o3", "openai", "o3"),
            ("o4-mini", "openai", "o4-mini"),
            ("chatgpt-4o-latest", "openai", "chatgpt-4o-latest"),
            ("text-embedding-3-small", "openai", "text-embedding-3-small"),
            ("gemini-2.0-flash", "gemini", "gemini-2.0-flash"),
            ("text-embedding-004", "gemini", "text-embedding-004"),
            ("gemini-embedding-001", "gemini", "gemini-embedding-001"),
            ("claude-3-5-sonnet-latest", "anthropic", "claude-3-5-sonnet-latest"),
            ("llama3.2", "ollama", "llama3.2"),
            ("mistral:7b", "ollama", "mistral:7b"),
            ("ollama/llama3.2", "ollama", "llama3.2"),
            ("openai/gpt-4o", "openai", "gpt-4o"),
            ("anthropic/claude-x", "anthropic", "claude-x"),
            ("gemini/gemini-pro", "gemini", "gemini-pro"),
            ("meta-llama/Llama-3", "ollama", "meta-llama/Llama-3"),
            ("openai/", "ollama", "openai/"),
        ])
    func defaultTable(model: String, provider: String, upstream: String) throws {
        let target = try Self.router().resolve(model)
        #expect(target.endpoint.id.rawValue == provider)
        #expect(target.upstreamModel == upstream)
        #expect(target.requestedModel == model)
    }

    @Test("Config routes come first, can alias a model and reach declared providers")
    func configRoutes() throws {
        let router = try Self.router(
            file: """
                providers:
                  - name: vllm
                    kind: openai
                    base_url: http://127.0.0.1:8000/v1
                    api_key_env: VLLM_KEY
                routes:
                  - match: fast
                    provider: openai
                    model: gpt-4o-mini
                  - match: ["llama-*", "gpt-oss*"]
                    provider: vllm
                """)
        let fast = try router.resolve("fast")
        #expect(fast.endpoint.id == "openai")
        #expect(fast.upstreamModel == "gpt-4o-mini")
        let oss = try router.resolve("gpt-oss-20b")
        #expect(oss.endpoint.id == "vllm")
        #expect(oss.endpoint.baseURL.url("/chat/completions") == "http://127.0.0.1:8000/v1/chat/completions")
        #expect(oss.endpoint.apiKey == Secret("k"))
        let prefixed = try router.resolve("vllm/qwen")
        #expect(prefixed.endpoint.id == "vllm")
        #expect(prefixed.upstreamModel == "qwen")
    }

    @Test(
        "Wildcard patterns match the whole name",
        arguments: [
            ("gpt-*", "gpt-4o", true), ("gpt-*", "xgpt-4o", false), ("o1*", "o1", true),
            ("*-preview", "a-preview", true),
            ("*-preview", "a-preview-2", false), ("a*b*c", "aXbYc", true), ("a*b*c", "acb", false),
            ("exact", "exact", true),
            ("exact", "exact2", false), ("*", "anything", true), ("ab*ba", "aba", false),
            ("a*b*b", "ab", false), ("a*b*b", "abb", true), ("*a*a", "aa", true), ("*aa*a", "aa", false),
            ("a**c", "ac", true), ("*", "", true), ("exact", "", false), ("gemini-*", "gemini-", true),
            ("été-*", "été-1", true), ("é*", "e\u{301}", false), ("*-4o", "gpt-4o-4o", true),
            ("a*bc", "abbc", true), ("*ab*cd", "xabyabzcd", true), ("a*b*c", "abcbd", false),
            ("a*", "", false), ("**", "", true),
        ])
    func patterns(pattern: String, name: String, matches: Bool) {
        #expect(ModelPattern(pattern).matches(name) == matches)
        #expect([ModelPattern("none"), ModelPattern(pattern)].anyMatches(name) == matches)
    }
}
