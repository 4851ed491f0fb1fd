import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwitchyardCore

/// The client-facing endpoints: the OpenAI and Anthropic routes, health and readiness.
enum ClientRoute: Equatable {
    case chatCompletions
    case embeddings
    case messages
    case countTokens
    case responses
    case responsesInputTokens
    /// `GET /v1/responses/{id}`.
    case storedResponse(id: String)
    /// `DELETE /v1/responses/{id}`.
    case deleteResponse(id: String)
    /// `GET /v1/responses/{id}/input_items`.
    case responseInputItems(id: String)
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
        case (.post, "/v1/responses"): self = .responses
        case (.post, "/v1/responses/input_tokens"): self = .responsesInputTokens
        case (.get, "/v1/models"): self = .models
        case (.get, "/health"): self = .health
        case (.get, "/ready"): self = .ready
        default:
            if let route = Self.storedResponseRoute(method: method, path: path) {
                self = route
                return
            }
            let segments = path.split(separator: "/")
            let canonical = "/" + segments.joined(separator: "/")
            guard canonical != path, !segments.isEmpty else { return nil }
            self.init(method: method, path: canonical)
        }
    }

    /// The routes of a kept response: `/v1/responses/{id}` (GET, DELETE) and its `input_items`.
    private static func storedResponseRoute(method: HTTPRequest.Method, path: String) -> ClientRoute? {
        let prefix = "/v1/responses/"
        guard path.hasPrefix(prefix) else { return nil }
        let parts = path.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard let id = parts.first.map(String.init), !id.isEmpty else { return nil }
        switch (method, parts.count, parts.last) {
        case (.get, 1, _): return .storedResponse(id: id)
        case (.delete, 1, _): return .deleteResponse(id: id)
        case (.get, 2, "input_items"?): return .responseInputItems(id: id)
        default: return nil
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
        case .responses: "responses"
        case .responsesInputTokens: "responses_input_tokens"
        case .storedResponse, .deleteResponse, .responseInputItems: "responses_store"
        case .models: "models"
        case .health: "health"
        case .ready: "ready"
        }
    }

    /// Whether requests count in the request metrics and get a log line: probes do not.
    var isRecorded: Bool {
        switch self {
        case .health, .ready: false
        case .chatCompletions, .embeddings, .messages, .countTokens, .responses, .responsesInputTokens, .storedResponse,
            .deleteResponse, .responseInputItems, .models:
            true
        }
    }

    /// How failures are answered: in Anthropic's shape on its routes, OpenAI's elsewhere.
    var errorShape: ErrorShape {
        switch self {
        case .messages, .countTokens: .anthropic
        default: .openAI
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
