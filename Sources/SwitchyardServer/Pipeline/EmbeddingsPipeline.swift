import Foundation
import HTTPTypes
import Hummingbird
import NIOFoundationCompat
import SwitchyardCore

extension Gateway {
    /// `POST /v1/embeddings`: read -> parse -> route -> admit (the input's tokens, the request) ->
    /// adapt -> send -> convert -> settle -> measure.
    func embeddings(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let trace = RequestTrace(route: "embeddings", requestID: context.requestID, gateway: self)
        var accounting: TokenAccounting?
        do {
            let key = try authenticate(request)
            let body = try await RequestBodyReader.read(request, context: context, limit: config.maxBodyBytes)
            let envelope: EmbeddingsEnvelope = try RequestDecoding.decode(Data(buffer: body))
            guard !envelope.model.isEmpty else {
                throw GatewayError.invalidRequest("`model` must be a non-empty string.", param: "model")
            }
            if let key { try config.keyring.authorize(key, model: envelope.model) }
            let plan = try plan(envelope.model)
            trace.routed(provider: plan[0].endpoint.id.rawValue, model: envelope.model)
            trace.identify(user: user(request, context, key: key))
            accounting = try await TokenAccounting.reserve(
                gateway: self, embeddingsInput: envelope.input, target: plan[0], request: request, context: context,
                key: key, bodySize: body.readableBytes)
            let client = clientContext(request, context)
            let (dispatched, raw) = try await ClientPresence.cancelOnClose(context.channel) {
                [self] () async throws(GatewayError) -> (Dispatched, ByteBuffer) in
                let dispatched = try await dispatch(plan, trace: trace) { target, adapter throws(GatewayError) in
                    try adapter.embeddingsRequest(body: body, target: target, client: client).readingWholeAnswer()
                }
                let provider = dispatched.target.endpoint.id
                return (dispatched, try await collect(dispatched.response, provider: provider, trace: trace))
            }
            let (upstream, adapter, provider) = (dispatched.response, dispatched.adapter, dispatched.target.endpoint.id)
            let converted = try decode(provider: provider) { () throws(GatewayError) in
                try adapter.embeddingsResponse(raw, request: body)
            }
            // Settled with the provider's count of the input; Gemini reports none, so ours stands.
            trace.usage(converted.usage)
            await accounting?.settle(usage: converted.usage, streamedText: "")
            trace.finish(status: 200)
            var headers = ForwardedHeaders.response(from: upstream.headers, contentType: "application/json")
            ForwardedHeaders.add(accounting?.headers ?? [:], to: &headers)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: converted.body))
        } catch {
            throw await TokenAccounting.failed(error, accounting: accounting, trace: trace)
        }
    }
}

/// The fields of an embeddings request the gateway checks before routing.
struct EmbeddingsEnvelope: Decodable {
    var model: String
    var input: JSONValue
}
