import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwitchyardCore

extension Gateway {
    /// The client-facing router: the OpenAI routes, health and readiness, all behind the edge
    /// middleware that assigns request ids and renders errors.
    func makeRouter() -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        router.add(middleware: EdgeMiddleware(limits: config.listener))
        router.add(
            middleware: ConcurrencyLimitMiddleware(
                limit: config.reliability.maxConcurrentRequests, slots: .init(), metrics: metrics))
        router.post("/v1/chat/completions") { request, context in
            try await self.chatCompletions(request, context: context)
        }
        router.post("/v1/embeddings") { request, context in
            try await self.embeddings(request, context: context)
        }
        router.get("/v1/models") { request, context in
            try await self.models(request, context: context)
        }
        router.get("/health") { _, _ in
            Self.statusResponse(.ok, #"{"status":"ok"}"#)
        }
        router.get("/ready") { _, _ in
            self.readiness.isReady
                ? Self.statusResponse(.ok, #"{"status":"ready"}"#)
                : Self.statusResponse(.serviceUnavailable, #"{"status":"shutting_down"}"#)
        }
        return router
    }

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

    static func statusResponse(_ status: HTTPResponse.Status, _ json: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: json))
        )
    }
}
