import Foundation
import Yams

/// The YAML configuration file: top-level settings named like the environment variables but in
/// lower case, plus `providers` and `routes` lists.
public struct ConfigFile: Sendable, Equatable {
    /// A provider declared in the file.
    public struct Provider: Decodable, Sendable, Equatable {
        /// Name routes refer to; a built-in name (`openai`, …) replaces that provider.
        public var name: String
        /// Protocol: openai, gemini, anthropic or ollama.
        public var kind: String
        /// `http(s)://host[:port][/prefix]` (for Bedrock and Vertex AI, derived from the region or
        /// location when not given).
        public var baseURL: String?
        /// Environment variable holding the API key.
        public var apiKeyEnv: String?
        /// Whole-exchange timeout in seconds.
        public var timeoutSeconds: Double?
        /// Connection timeout in seconds.
        public var connectTimeoutSeconds: Double?
        /// Time to the response head in seconds.
        public var firstByteTimeoutSeconds: Double?
        /// Longest gap between body chunks in seconds.
        public var idleTimeoutSeconds: Double?
        /// Whether an `openai` provider serves `/responses` (default true); false translates
        /// Responses requests to Chat Completions for it.
        public var responsesAPI: Bool?
        /// Azure OpenAI: `api-version`, or `v1`.
        public var apiVersion: String?
        /// Azure OpenAI: deployment names by model name.
        public var deployments: [String: String]?
        /// Azure OpenAI: `api-key` (default) or `bearer` (an Entra ID token in `api_key_env`).
        public var auth: String?
        /// Bedrock: the AWS region.
        public var region: String?
        /// Bedrock: the shared-credentials profile.
        public var profile: String?
        /// Vertex AI: the Google Cloud project.
        public var project: String?
        /// Vertex AI: the location.
        public var location: String?
        /// Vertex AI: a service account's key file.
        public var credentialsFile: String?
        /// Vertex AI: an environment variable holding an access token.
        public var accessTokenEnv: String?

        enum CodingKeys: String, CodingKey {
            case name, kind, deployments, auth, region, profile, project, location
            case apiVersion = "api_version"
            case credentialsFile = "credentials_file"
            case accessTokenEnv = "access_token_env"
            case baseURL = "base_url"
            case apiKeyEnv = "api_key_env"
            case timeoutSeconds = "timeout_seconds"
            case connectTimeoutSeconds = "connect_timeout_seconds"
            case firstByteTimeoutSeconds = "first_byte_timeout_seconds"
            case idleTimeoutSeconds = "idle_timeout_seconds"
            case responsesAPI = "responses_api"
        }
    }

    /// A route declared in the file.
    public struct RouteEntry: Decodable, Sendable, Equatable {
        /// Model patterns (`*` wildcards); a single string is accepted too.
        public var match: [String]
        /// Provider name, for a route with one deployment.
        public var provider: String?
        /// Model name sent upstream instead of the requested one.
        public var model: String?
        /// Weighted deployments that share the traffic (with `provider`, if given).
        public var deployments: [DeploymentEntry]
        /// Deployments tried in order when those fail.
        public var fallbacks: [DeploymentEntry]

        enum CodingKeys: String, CodingKey { case match, provider, model, deployments, fallbacks }

        /// Decodes `match` as a string or a list of strings.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            guard let patterns = try c.patterns(forKey: .match) else {
                throw DecodingError.keyNotFound(
                    CodingKeys.match, .init(codingPath: c.codingPath, debugDescription: "match is required"))
            }
            match = patterns
            provider = try c.decodeIfPresent(String.self, forKey: .provider)
            model = try c.decodeIfPresent(String.self, forKey: .model)
            deployments = try c.decodeIfPresent([DeploymentEntry].self, forKey: .deployments) ?? []
            fallbacks = try c.decodeIfPresent([DeploymentEntry].self, forKey: .fallbacks) ?? []
        }
    }

    /// A deployment in a route's `deployments` or `fallbacks` list.
    public struct DeploymentEntry: Decodable, Sendable, Equatable {
        /// Provider name.
        public var provider: String
        /// Model name sent to it (the requested name when absent).
        public var model: String?
        /// Share of the route's traffic (default 1).
        public var weight: Int?

        /// Creates an entry.
        public init(provider: String, model: String?, weight: Int? = nil) {
            self.provider = provider
            self.model = model
            self.weight = weight
        }
    }

    /// A gateway key declared in the file: the secret as its SHA-256 (hex) or in an environment variable.
    public struct KeyEntry: Decodable, Sendable, Equatable {
        /// Name (logs, metrics, rate-limit user); never the secret.
        public var name: String
        /// SHA-256 of the secret, hex (`switchyard hash-key` prints it).
        public var sha256: String?
        /// Environment variable holding the secret.
        public var keyEnv: String?
        /// Model patterns the key may use (all when absent).
        public var models: [String]?
        /// Expiry, ISO 8601 (`2027-01-31` or `2027-01-31T12:00:00Z`).
        public var expires: String?
        /// Tokens per window for everyone using the key together.
        public var maxTokens: Int?
        /// Requests per window for everyone using the key together.
        public var maxRequests: Int?
        /// The key's team, whose dollar budgets apply to it.
        public var team: String?
        /// Dollars the key may spend per calendar month (or per `budget_window_minutes`).
        public var budgetUSD: Double?
        /// The key's dollar budget as a sliding window of minutes instead of a calendar month.
        public var budgetWindowMinutes: Int?

        enum CodingKeys: String, CodingKey {
            case name, sha256, models, expires, team
            case keyEnv = "key_env"
            case maxTokens = "max_tokens"
            case maxRequests = "max_requests"
            case budgetUSD = "budget_usd"
            case budgetWindowMinutes = "budget_window_minutes"
        }
    }

    /// A dollar budget declared in the file's `budgets` list. At most one of `key`, `team` and
    /// `user` says whose spending it caps (a name, or `*` for each one on their own); with none it
    /// caps everything it covers together.
    public struct SpendBudgetEntry: Decodable, Sendable, Equatable {
        /// Name (state keys, messages).
        public var name: String
        /// A gateway key's name, or `*`.
        public var key: String?
        /// A team's name, or `*`.
        public var team: String?
        /// A user (the user header's value), or `*`.
        public var user: String?
        /// Requested-model patterns (`*` wildcards); a single string is accepted too; absent means all.
        public var match: [String]
        /// Provider the request must be routed to.
        public var provider: String?
        /// Dollars per period.
        public var usd: Double
        /// `month` (the calendar month, UTC; the default) or `day`.
        public var period: String?
        /// A sliding window of this many minutes instead of `period`.
        public var windowMinutes: Int?

        enum CodingKeys: String, CodingKey {
            case name, key, team, user, match, provider, usd, period
            case windowMinutes = "window_minutes"
        }

        /// Decodes `match` as a string or a list of strings.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            key = try c.decodeIfPresent(String.self, forKey: .key)
            team = try c.decodeIfPresent(String.self, forKey: .team)
            user = try c.decodeIfPresent(String.self, forKey: .user)
            match = try c.patterns(forKey: .match) ?? []
            provider = try c.decodeIfPresent(String.self, forKey: .provider)
            usd = try c.decode(Double.self, forKey: .usd)
            period = try c.decodeIfPresent(String.self, forKey: .period)
            windowMinutes = try c.decodeIfPresent(Int.self, forKey: .windowMinutes)
        }
    }

    /// A model or route budget declared in the file's `rate_limits` list.
    public struct BudgetEntry: Decodable, Sendable, Equatable {
        /// Name (state keys, messages).
        public var name: String
        /// Requested-model patterns (`*` wildcards); a single string is accepted too; absent means all.
        public var match: [String]
        /// Provider the request must be routed to.
        public var provider: String?
        /// Tokens per user per window.
        public var maxTokens: Int?
        /// Requests per user per window.
        public var maxRequests: Int?

        enum CodingKeys: String, CodingKey {
            case name, match, provider
            case maxTokens = "max_tokens"
            case maxRequests = "max_requests"
        }

        /// Decodes `match` as a string or a list of strings.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            match = try c.patterns(forKey: .match) ?? []
            provider = try c.decodeIfPresent(String.self, forKey: .provider)
            maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens)
            maxRequests = try c.decodeIfPresent(Int.self, forKey: .maxRequests)
        }
    }

    /// Scalar settings by lower-case name, as strings.
    public var settings: [String: String]
    /// Declared providers.
    public var providers: [Provider]
    /// Declared routes.
    public var routes: [RouteEntry]
    /// Declared gateway keys.
    public var gatewayKeys: [KeyEntry] = []
    /// Declared model and route budgets.
    public var budgets: [BudgetEntry] = []
    /// Declared dollar budgets.
    public var spendBudgets: [SpendBudgetEntry] = []
    /// Prices laid over the built-in table.
    public var prices: [PriceTable.Entry] = []

    /// Reads and parses the file at `path`.
    public static func load(path: String) throws(ConfigError) -> ConfigFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("config file \(path): cannot be read (does it exist?)")
        }
        return try parse(String(decoding: data, as: UTF8.self), name: path)
    }

    /// Parses YAML text; `name` is used in messages.
    public static func parse(_ text: String, name: String) throws(ConfigError) -> ConfigFile {
        let root: Any?
        do {
            root = try Yams.load(yaml: text)
        } catch {
            throw ConfigError("config file \(name): not valid YAML (\(error))")
        }
        guard let root else { return ConfigFile(settings: [:], providers: [], routes: []) }
        let sectionNames: Set<String> = ["providers", "routes", "gateway_keys", "rate_limits", "budgets", "prices"]
        guard let mapping = root as? [String: Any] else {
            throw ConfigError("config file \(name): the top level must be a mapping of settings")
        }
        var settings: [String: String] = [:]
        for (key, value) in mapping where !sectionNames.contains(key) {
            guard SettingKey(rawValue: key) != nil else {
                throw ConfigError("config file \(name): unknown setting `\(key)`")
            }
            switch value {
            case let s as String: settings[key] = s
            case let b as Bool: settings[key] = b ? "true" : "false"
            case let i as Int: settings[key] = String(i)
            case let d as Double: settings[key] = String(d)
            default: throw ConfigError("config file \(name): `\(key)` must be a single value")
            }
        }
        do {
            let section = try YAMLDecoder().decode(Sections.self, from: text)
            return ConfigFile(
                settings: settings, providers: section.providers ?? [], routes: section.routes ?? [],
                gatewayKeys: section.gatewayKeys ?? [], budgets: section.budgets ?? [],
                spendBudgets: section.spendBudgets ?? [], prices: section.prices ?? [])
        } catch let error as DecodingError {
            throw ConfigError("config file \(name): \(describe(error))")
        } catch {
            throw ConfigError("config file \(name): \(error)")
        }
    }

    struct Sections: Decodable {
        var providers: [Provider]?
        var routes: [RouteEntry]?
        var gatewayKeys: [KeyEntry]?
        var budgets: [BudgetEntry]?
        var spendBudgets: [SpendBudgetEntry]?
        var prices: [PriceTable.Entry]?
        enum CodingKeys: String, CodingKey {
            case providers, routes, prices
            case gatewayKeys = "gateway_keys"
            case budgets = "rate_limits"
            case spendBudgets = "budgets"
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ p: [any CodingKey]) -> String {
            p.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
        }
        switch error {
        case .keyNotFound(let key, let ctx): return "`\(path(ctx.codingPath + [key]))` is required"
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx):
            return "`\(path(ctx.codingPath))` has the wrong type"
        default: return "cannot be decoded (\(error))"
        }
    }
}

extension KeyedDecodingContainer {
    /// Model patterns given as one string or a list of strings; nil when absent.
    fileprivate func patterns(forKey key: Key) throws -> [String]? {
        if let one = try? decode(String.self, forKey: key) { return [one] }
        return try decodeIfPresent([String].self, forKey: key)
    }
}
