import Foundation

extension ConfigLoader {
    /// The cloud settings of a declared provider of kind azure, bedrock or vertex (nil for the
    /// others), with its credentials resolved now so a missing one stops `serve` with one line.
    func cloudAccess(_ kind: ProviderKind, _ p: ConfigFile.Provider, at: String) throws(ConfigError) -> CloudAccess? {
        switch kind {
        case .azure:
            let auth = p.auth ?? "api-key"
            guard ["api-key", "bearer"].contains(auth) else {
                throw ConfigError("\(at): auth must be api-key or bearer")
            }
            return .azure(
                AzureAccess(
                    apiVersion: p.apiVersion ?? "2024-10-21", deployments: p.deployments ?? [:],
                    bearer: auth == "bearer"))
        case .bedrock:
            guard let region = p.region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] else {
                throw ConfigError("\(at): region is required (or AWS_REGION)")
            }
            let (credentials, source) = try awsCredentials(profile: p.profile, at: at)
            return .bedrock(BedrockAccess(region: region, credentials: credentials, source: source))
        case .vertex:
            guard let project = p.project, !project.isEmpty else { throw ConfigError("\(at): project is required") }
            let location = p.location ?? "us-central1"
            if let env = p.accessTokenEnv {
                guard let token = environment[env], !token.isEmpty else {
                    throw ConfigError("\(at): access_token_env names \(env), which is not set")
                }
                return .vertex(
                    VertexAccess(project: project, location: location, credentials: .token(Secret(token)), source: env))
            }
            guard let file = p.credentialsFile ?? environment["GOOGLE_APPLICATION_CREDENTIALS"] else {
                throw ConfigError(
                    "\(at): give credentials_file (a service account key), access_token_env, or GOOGLE_APPLICATION_CREDENTIALS"
                )
            }
            guard let bytes = FileManager.default.contents(atPath: file) else {
                throw ConfigError("\(at): credentials_file `\(file)` cannot be read")
            }
            guard let account = GoogleServiceAccount(json: Array(bytes)) else {
                throw ConfigError("\(at): `\(file)` is not a service account key (client_email and private_key)")
            }
            do {
                _ = try account.assertion(now: Date())
            } catch {
                throw ConfigError("\(at): the private key in `\(file)` cannot sign (not an RSA key in PEM)")
            }
            return .vertex(
                VertexAccess(project: project, location: location, credentials: .serviceAccount(account), source: file))
        case .openai, .gemini, .anthropic, .ollama:
            return nil
        }
    }

    /// The address a cloud provider has when `base_url` is not given.
    static func defaultBaseURL(_ kind: ProviderKind, _ p: ConfigFile.Provider) -> String? {
        switch kind {
        case .bedrock: p.region.map { "https://bedrock-runtime.\($0).amazonaws.com" }
        case .vertex:
            p.location.map {
                $0 == "global" ? "https://aiplatform.googleapis.com" : "https://\($0)-aiplatform.googleapis.com"
            }
                ?? "https://us-central1-aiplatform.googleapis.com"
        default: nil
        }
    }

    /// AWS credentials as the AWS tools find them: a named profile (`profile`, else `AWS_PROFILE`)
    /// in the shared credentials file; else `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (with
    /// `AWS_SESSION_TOKEN` for temporary STS credentials); else the file's `default` profile.
    func awsCredentials(profile: String?, at: String) throws(ConfigError) -> (AWSCredentials, String) {
        let named = profile ?? environment["AWS_PROFILE"]
        if named == nil, let id = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"],
            !id.isEmpty, !secret.isEmpty
        {
            let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : Secret($0) }
            return (
                AWSCredentials(accessKeyID: id, secretAccessKey: Secret(secret), sessionToken: token),
                token == nil
                    ? "environment (AWS_ACCESS_KEY_ID)"
                    : "environment (AWS_ACCESS_KEY_ID, temporary with AWS_SESSION_TOKEN)"
            )
        }
        let path =
            environment["AWS_SHARED_CREDENTIALS_FILE"]
            ?? (environment["HOME"].map { "\($0)/.aws/credentials" } ?? "~/.aws/credentials")
        let name = named ?? "default"
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw ConfigError(
                "\(at): no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in \(path)")
        }
        let section = Self.iniSection(String(decoding: bytes, as: UTF8.self), named: name)
        guard let id = section["aws_access_key_id"], let secret = section["aws_secret_access_key"] else {
            throw ConfigError("\(at): profile `\(name)` in \(path) has no aws_access_key_id and aws_secret_access_key")
        }
        return (
            AWSCredentials(
                accessKeyID: id, secretAccessKey: Secret(secret),
                sessionToken: section["aws_session_token"].map(Secret.init)),
            "profile `\(name)` in \(path)"
        )
    }

    /// The `key = value` lines of `[name]` in an INI text.
    static func iniSection(_ text: String, named name: String) -> [String: String] {
        var values: [String: String] = [:]
        var inside = false
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") {
                inside = line == "[\(name)]" || line == "[profile \(name)]"
            } else if inside, !line.hasPrefix("#"), !line.hasPrefix(";"), let eq = line.firstIndex(of: "=") {
                values[line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()] =
                    line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return values
    }
}
