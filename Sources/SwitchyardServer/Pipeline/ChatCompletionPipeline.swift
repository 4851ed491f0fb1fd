import Foundation
import HTTPTypes
import Hummingbird
import NIOFoundationCompat
import SwitchyardCore

extension Gateway {
    /// `POST /v1/chat/completions`, phase by phase: authenticate -> read -> parse -> authorize ->
    /// route -> adapt -> send -> convert (or stream) -> measure.
    func chatCompletions(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let trace = RequestTrace(route: "chat", requestID: context.requestID, gateway: self)
        var accounting: TokenAccounting?
        do {
            let key = try authenticate(request)
            let body = try await RequestBodyReader.read(request, context: context, limit: config.maxBodyBytes)
            var chat = try await HeavyWork.run(bytes: body.readableBytes) { () throws(GatewayError) in
                try ChatRequestEnvelope.parse(body.readableBytesView)
            }
            if let key { try config.keyring.authorize(key, model: chat.model) }
            let plan = try plan(chat.model)
            trace.routed(provider: plan[0].endpoint.id.rawValue, model: chat.model)
            trace.identify(user: user(request, context, key: key))
            accounting = try await TokenAccounting.reserve(
                gateway: self, chat: chat, target: plan[0], request: request, context: context, key: key,
                bodySize: body.readableBytes)
            chat.accountUsage = accounting != nil
            let client = clientContext(request, context)
            let sent = chat
            let (dispatched, raw) = try await ClientPresence.cancelOnClose(context.channel) {
                [self] () async throws(GatewayError) -> (Dispatched, ByteBuffer?) in
                let dispatched = try await dispatch(plan, trace: trace) { target, adapter throws(GatewayError) in
                    try adapter.chatRequest(sent, body: body, target: target, client: client)
                        .readingWholeAnswer(unless: sent.stream)
                }
                if sent.stream { return (dispatched, nil) }
                let provider = dispatched.target.endpoint.id
                return (dispatched, try await collect(dispatched.response, provider: provider, trace: trace))
            }
            let (upstream, adapter, provider) = (dispatched.response, dispatched.adapter, dispatched.target.endpoint.id)

            guard let raw else {
                return StreamRelay(
                    gateway: self, trace: trace, channel: context.channel, accounting: accounting,
                    concurrencySlot: context.concurrencySlot
                )
                .response(
                    upstream: upstream,
                    transcoder: adapter.makeChatStreamTranscoder(chat: chat)
                )
            }
            let adapted = try decode(provider: provider) { () throws(GatewayError) in
                try adapter.chatResponse(raw, chat: chat)
            }
            trace.usage(adapted.usage)
            await accounting?.settle(usage: adapted.usage, streamedText: "")
            trace.finish(status: 200)
            var headers = ForwardedHeaders.response(from: upstream.headers, contentType: "application/json")
            ForwardedHeaders.add(accounting?.headers ?? [:], to: &headers)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: adapted.body))
        } catch {
            throw await TokenAccounting.failed(error, accounting: accounting, trace: trace)
        }
    }
}
