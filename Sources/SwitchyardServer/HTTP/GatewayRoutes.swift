import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwitchyardCore

/// The client-facing endpoints: the OpenAI and Anthropic routes, health and readiness.
enum ClientRoute {
    case chatCompletions
    case embeddings
    case messages
    case countTokens
    case models
    case health
    case ready

    /// The route serving `method` on `path`, or nil (a 404). Empty path segments do not count, as
    /// in Hummingbird's router before: `/v1//models/` is `/v1/models`.
    init?(method: HTTPRequest.Method, path: String) {
        switch (method, path) {
        case (.post, "/v1/chat/completions"): self = .chatCompletions
        case (.post, "/v1/embeddings"): self = .embeddings
        case (.post, "/v1/messages"): self = .messages
        case (.post, "/v1/messages/count_tokens"): self = .countTokens
        case (.get, "/v1/models"): self = .models
        case (.get, "/health"): self = .health
        case (.get, "/ready"): self = .ready
        default:
            let segments = path.split(separator: "/")
            let canonical = "/" + segments.joined(separator: "/")
            guard canonical != path, !segments.isEmpty else { return nil }
            self.init(method: method, path: canonical)
        }
    }

    /// Whether requests on `path` count against the concurrency limit: the API, including its
    /// unknown paths, but not health and readiness.
    static func isLimited(_ path: String) -> Bool {
        path.hasPrefix("/v1/")
    }

    /// The `route` label of the request metrics and log line.
    var label: String {
        switch self {
        case .chatCompletions: "chat"
        case .embeddings: "embeddings"
        case .messages: "messages"
        case .countTokens: "count_tokens"
        case .models: "models"
        case .health: "health"
        case .ready: "ready"
        }
    }

    /// Whether requests count in the request metrics and get a log line: probes do not.
    var isRecorded: Bool {
        switch self {
        case .health, .ready: false
        case .chatCompletions, .embeddings, .messages, .countTokens, .models: true
        }
    }

    /// How failures are answered: in Anthropic's shape on its routes, OpenAI's elsewhere.
    var errorShape: ErrorShape {
        switch self {
        case .messages, .countTokens: .anthropic
        case .chatCompletions, .embeddings, .models, .health, .ready: .openAI
        }
    }
}

extension Gateway {
    /// The metrics router: `GET /metrics` in Prometheus text format.
    func makeMetricsRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: self.metrics.render()))
            )
        }
        return router
    }
}
