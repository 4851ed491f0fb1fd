/// How a cloud provider is reached beyond its address: Azure OpenAI's API version and
/// deployments, Bedrock's region and AWS credentials, Vertex AI's project, location and Google
/// credentials. `source` says where credentials came from, for `check-config`; never what they are.
public enum CloudAccess: Sendable, Equatable {
    /// Azure OpenAI.
    case azure(AzureAccess)
    /// AWS Bedrock.
    case bedrock(BedrockAccess)
    /// Google Vertex AI.
    case vertex(VertexAccess)
}

/// Azure OpenAI: which API version, which deployment serves which model, and how the key is sent.
public struct AzureAccess: Sendable, Equatable {
    /// `api-version` (`2024-10-21`), or `v1` for the `/openai/v1/` API.
    public var apiVersion: String
    /// Deployment names by model name; a model without one is its own deployment name.
    public var deployments: [String: String]
    /// Whether the credential is an Entra ID bearer token (else an `api-key`).
    public var bearer: Bool

    /// Settings.
    public init(apiVersion: String, deployments: [String: String], bearer: Bool) {
        self.apiVersion = apiVersion
        self.deployments = deployments
        self.bearer = bearer
    }
}

/// AWS Bedrock: the region signed for and the credentials that sign.
public struct BedrockAccess: Sendable, Equatable {
    /// The AWS region (`us-east-1`).
    public var region: String
    /// The credentials.
    public var credentials: AWSCredentials
    /// Where they came from (`environment`, `profile default in ~/.aws/credentials`).
    public var source: String

    /// Settings.
    public init(region: String, credentials: AWSCredentials, source: String) {
        self.region = region
        self.credentials = credentials
        self.source = source
    }
}

/// Google Vertex AI: the project and location models are served from, and the credentials.
public struct VertexAccess: Sendable, Equatable {
    /// How requests are authorized.
    public enum Credentials: Sendable, Equatable {
        /// A service account's key: access tokens are minted from it and refreshed.
        case serviceAccount(GoogleServiceAccount)
        /// A given access token.
        case token(Secret)
    }

    /// The Google Cloud project.
    public var project: String
    /// The location (`us-central1`, `us-east5`, `global`).
    public var location: String
    /// The credentials.
    public var credentials: Credentials
    /// Where they came from (a file path or an environment variable name).
    public var source: String

    /// Settings.
    public init(project: String, location: String, credentials: Credentials, source: String) {
        self.project = project
        self.location = location
        self.credentials = credentials
        self.source = source
    }
}

/// How the server signs or authorizes an upstream request just before it is sent (what needs the
/// clock or a token fetched over the network, which adapters do not do).
public enum UpstreamSigning: Sendable {
    /// AWS Signature Version 4 for `service` in `region`.
    case aws(region: String, service: String, credentials: AWSCredentials)
    /// A Google OAuth access token for the Vertex provider `provider`.
    case google(provider: ProviderID, credentials: VertexAccess.Credentials)
}
