import HTTPTypes
import NIOCore
import NIOFoundationCompat
import SwitchyardCore

/// The one path every client request takes, phase by phase, over one `RequestContext`:
///
///     accept → (route) → authenticate → parse → authorize → plan → recall → admit → attempt → relay → end
///
/// `run` is the whole story: each phase is a method below, in that order, and every request,
/// whatever its endpoint and however it goes (answered, refused, failed upstream, client gone),
/// ends in `end`, which charges the answer and settles the budgets, writes the answer's last part
/// (or the failure), records the metrics, the log line and the ledger row, and gives back the
/// concurrency slot. Endpoints answered by a provider are front doors
/// (`FrontDoor`): they only convert; this type does the I/O.
struct RequestLifecycle: Sendable {
    /// The shared state: configuration, adapters, transport, budgets, metrics.
    let gateway: Gateway
    /// Overload protection for the API routes.
    let concurrency: ConcurrencyLimit

    /// The lifecycle of `gateway`'s listener, with its concurrency limit.
    init(gateway: Gateway) {
        self.gateway = gateway
        self.concurrency = ConcurrencyLimit(
            limit: gateway.config.reliability.maxConcurrentRequests, metrics: gateway.metrics)
    }

    /// How a request ended, as `end` needs to know it. `end` writes what is left to write, after
    /// settling, so a client that has its answer sees the budgets already settled.
    enum Outcome: Sendable {
        /// A whole answer, to be written.
        case whole(HTTPResponse.Status, HTTPFields, ByteBuffer, usage: TokenUsage?)
        /// A stream whose chunks have been written; its end is still to be written.
        case streamed(StreamRelay.Ending, usage: TokenUsage?, streamedText: String)
        /// Nothing has been written: `end` answers with this error.
        case failed(GatewayError)
    }

    /// Runs `request` from acceptance to its record. Never throws: every failure is an answer.
    func run(_ request: ClientRequest, on channel: any Channel) async {
        var context = RequestContext(request, channel: channel, gateway: gateway)
        let outcome: Outcome
        do throws(GatewayError) {
            try accept(&context)
            outcome = try await serve(&context)
        } catch {
            // Whatever failed after the client left failed because it left.
            outcome = .failed(Task.isCancelled ? .clientClosed : error)
        }
        await end(&context, outcome)
    }

    /// Accept: a request the listener refused is answered as such; an API request takes a
    /// concurrency slot or is refused with 503.
    @inline(never)
    private func accept(_ context: inout RequestContext) throws(GatewayError) {
        if let refusal = context.request.refusal { throw refusal.error(gateway.config.listener) }
        if ClientRoute.isLimited(context.path) { context.holdsSlot = try concurrency.admit() }
    }

    /// The endpoint's phases.
    private func serve(_ context: inout RequestContext) async throws(GatewayError) -> Outcome {
        try await phases(of: context.route)(&context)
    }

    /// A request through one endpoint's phases.
    typealias Phases = (inout RequestContext) async throws(GatewayError) -> Outcome

    /// The phases of `route`'s endpoint. Each is an async function of its own, so a request's task
    /// holds the frame of its endpoint only (a stream holds its task's frames for its whole life).
    private func phases(of route: ClientRoute?) -> Phases {
        switch route {
        case .chatCompletions?:
            return { context throws(GatewayError) in try await exchange(&context, through: ChatFrontDoor()) }
        case .embeddings?:
            return { context throws(GatewayError) in try await exchange(&context, through: EmbeddingsFrontDoor()) }
        case .messages?:
            return { context throws(GatewayError) in try await exchange(&context, through: MessagesFrontDoor()) }
        case .countTokens?: return { context throws(GatewayError) in try await countTokens(&context) }
        case .responses?:
            return { context throws(GatewayError) in try await exchange(&context, through: ResponsesFrontDoor()) }
        case .responsesInputTokens?: return { context throws(GatewayError) in try await inputTokens(&context) }
        case .storedResponse(let id)?:
            return { context throws(GatewayError) in
                try authenticate(&context)
                return answer(.ok, value: try await recallForReading(context, id).response)
            }
        case .deleteResponse(let id)?:
            return { context throws(GatewayError) in
                try authenticate(&context)
                _ = try await recallForReading(context, id)
                _ = await gateway.responses.delete(id)
                let deleted: JSONValue = ["id": .string(id), "object": "response.deleted", "deleted": .bool(true)]
                return answer(.ok, value: deleted)
            }
        case .responseInputItems(let id)?:
            return { context throws(GatewayError) in
                try authenticate(&context)
                let items = try await recallForReading(context, id).inputItems
                return answer(.ok, value: Self.page(items, query: context.request.query))
            }
        case .models?: return { context throws(GatewayError) in try await models(&context) }
        case .health?: return { _ in answer(.ok, json: ByteBuffer(string: #"{"status":"ok"}"#)) }
        case .ready?:
            return { _ in
                gateway.readiness.isReady
                    ? answer(.ok, json: ByteBuffer(string: #"{"status":"ready"}"#))
                    : answer(.serviceUnavailable, json: ByteBuffer(string: #"{"status":"shutting_down"}"#))
            }
        case nil:
            return { context throws(GatewayError) in
                throw .unknownRoute(method: context.request.head.method.rawValue, path: context.path)
            }
        }
    }

    /// The phases of `/v1/models`: every provider's list, in the caller's API's shape.
    private func models(_ context: inout RequestContext) async throws(GatewayError) -> Outcome {
        try authenticate(&context)
        let client = gateway.clientContext(context.headers, requestID: context.requestID, keyring: context.live.keyring)
        let anthropic =
            context.headers.value(of: MessagesFrontDoor.version) != nil || context.headers.value(of: .apiKey) != nil
        let listing = await gateway.modelListing(client: client, anthropic: anthropic, router: context.live.router)
        // A client that left stopped the fan-out, and the list is partial.
        if Task.isCancelled { throw .clientClosed }
        return answer(.ok, json: listing)
    }

    /// The phases of a request a provider answers, top to bottom.
    private func exchange<Door: FrontDoor>(
        _ context: inout RequestContext, through door: Door
    ) async throws(GatewayError) -> Outcome {
        try authenticate(&context)
        var request = try await parse(&context, door)
        let model = door.model(of: request)
        try authorize(context, model: model)
        var plan = try plan(&context, model: model)
        request = try await prepare(context, request, door: door, target: plan[0])
        try await admit(&context, request, door: door, target: plan[0])
        let upstream: Dispatched
        do throws(GatewayError) {
            upstream = try await attempt(&context, plan, request, door: door)
        } catch {
            // A provider without the native API the request went to: translate instead.
            guard door.passesThrough(request, to: plan[0]), LearnedCapabilities.isMissingEndpoint(error) else {
                throw error
            }
            gateway.learned.lacksNativeAPI(plan[0].endpoint.id)
            plan = plan.map(gateway.learned.adjusted)
            request = try await prepare(context, request, door: door, target: plan[0])
            upstream = try await attempt(&context, plan, request, door: door)
        }
        guard let transcoder = relay(&context, upstream, door: door, request: request) else {
            return try await relayWhole(&context, upstream, door: door, request: request)
        }
        return await relayStream(&context, upstream, door: door, request: request, transcoder: transcoder)
    }

    /// The phases of `count_tokens`: no budget is spent and no completion asked for (Claude Code
    /// asks often). A route to Anthropic asks Anthropic's own count; every other route, or an
    /// Anthropic that cannot count, is counted locally.
    private func countTokens(_ context: inout RequestContext) async throws(GatewayError) -> Outcome {
        let (request, target) = try await counting(&context) { body throws(GatewayError) in
            try MessagesRequest.parse(body.readableBytesView, counting: true)
        } model: {
            $0.model
        }
        let body = context.request.body
        if target.endpoint.kind == .anthropic, let counted = await anthropicCount(context, request, target: target) {
            return answer(.ok, json: counted)
        }
        let counter = try? ChatTokenCounter(model: target.upstreamModel)
        let tokens = await HeavyWork.run(bytes: body.readableBytes) {
            request.inputTokens(counter: counter, bodySize: body.readableBytes)
        }
        return answer(.ok, json: ByteBuffer(string: #"{"input_tokens":\#(tokens)}"#))
    }

    /// The phases of `POST /v1/responses/input_tokens`: the translated input counted locally, no
    /// budget spent, nothing sent upstream.
    private func inputTokens(_ context: inout RequestContext) async throws(GatewayError) -> Outcome {
        let (request, target) = try await counting(&context) { body throws(GatewayError) in
            try ResponsesRequest.parse(body.readableBytesView)
        } model: {
            $0.model
        }
        let body = context.request.body
        let counter = try? ChatTokenCounter(model: target.upstreamModel)
        let chat = try request.chat()
        let tokens = await HeavyWork.run(bytes: body.readableBytes) {
            counter?.promptTokens(messages: chat["messages"]?.arrayValue ?? [], tools: chat["tools"]?.arrayValue)
                ?? body.readableBytes / 4
        }
        let counted: JSONValue = ["object": "response.input_tokens", "input_tokens": .number(Double(max(1, tokens)))]
        return answer(.ok, value: counted)
    }

    /// Anthropic's count of `request`, or nil when it could not give one.
    private func anthropicCount(
        _ context: RequestContext, _ request: MessagesRequest, target: ModelRouter.Target
    ) async -> ByteBuffer? {
        guard let adapter = gateway.adapters.adapter(for: .anthropic) else { return nil }
        let headers = context.headers
        let upstream = MessagesPassthrough.request(
            request, body: context.request.body, target: target,
            client: gateway.clientContext(headers, requestID: context.requestID, keyring: context.live.keyring),
            version: headers[MessagesFrontDoor.version], beta: headers[MessagesFrontDoor.beta],
            path: "/v1/messages/count_tokens")
        guard
            let response = try? await gateway.attempt(
                upstream.readingWholeAnswer(), adapter: adapter, provider: target.endpoint.id),
            let counted = try? await gateway.collect(response, provider: target.endpoint.id),
            ((try? JSONParser.parse(counted.readableBytesView))?["input_tokens"]?.intValue ?? 0) > 0
        else { return nil }
        return counted
    }

    /// Authenticate: the gateway key, when keys are configured.
    @inline(never)
    private func authenticate(_ context: inout RequestContext) throws(GatewayError) {
        context.key = try gateway.authenticate(context.headers, keyring: context.live.keyring)
        context.userHeader = gateway.userHeader(context.headers)
        // Who the caller is (a digest of its token, say) is worked out once, and only when the
        // budgets, the ledger or the log line will use it.
        if gateway.limiter != nil || gateway.ledger != nil || gateway.logger.logLevel <= .info {
            context.user = gateway.user(of: context)
        }
        context.record.identify(user: context.user, header: context.userHeader, key: context.key, gateway: gateway)
    }

    /// Parse: the body, once, by the front door (large bodies off the event loop).
    @inline(never)
    private func parse<Door: FrontDoor>(
        _ context: inout RequestContext, _ door: Door
    ) async throws(GatewayError) -> Door.Parsed {
        let headers = context.headers
        return try await read(context) { body throws(GatewayError) in
            try door.parse(body, headers: headers)
        }
    }

    /// The body read by `parse` (413 beyond the limit; large bodies off the event loop).
    private func read<T: Sendable>(
        _ context: RequestContext, _ parse: (ByteBuffer) throws(GatewayError) -> T
    ) async throws(GatewayError) -> T {
        if context.request.bodyOverLimit { throw .bodyTooLarge(limit: gateway.config.maxBodyBytes) }
        let body = context.request.body
        return try await HeavyWork.run(bytes: body.readableBytes) { () throws(GatewayError) in try parse(body) }
    }

    /// The phases a counting endpoint shares: authenticate, parse, authorize, plan. Returns the
    /// parsed request and the deployment whose tokenizer counts it.
    private func counting<Request: Sendable>(
        _ context: inout RequestContext, parse: (ByteBuffer) throws(GatewayError) -> Request,
        model: (Request) -> String
    ) async throws(GatewayError) -> (Request, ModelRouter.Target) {
        try authenticate(&context)
        let request = try await read(context, parse)
        try authorize(context, model: model(request))
        return (request, try plan(&context, model: model(request))[0])
    }

    /// Authorize: the key may use the model.
    @inline(never)
    private func authorize(_ context: RequestContext, model: String) throws(GatewayError) {
        if let key = context.key { try context.live.keyring.authorize(key, model: model) }
    }

    /// Plan: the deployments to try, in order, skipping those cooling down.
    @inline(never)
    private func plan(_ context: inout RequestContext, model: String) throws(GatewayError) -> [ModelRouter.Target] {
        let body = context.request.body
        context.record.span?.parsed(model: model, body: body)
        let plan = try gateway.plan(model, router: context.live.router)
        context.record.routed(provider: plan[0].endpoint.id.rawValue, model: model)
        context.record.span?.routed(plan[0])
        return plan
    }

    /// Admit: prices the request (refusing a model without a price when so configured), and
    /// reserves what it may spend (its prompt and the completion it allows, in tokens and dollars)
    /// in every budget that applies, or refuses it with 429. Not inlined: what `exchange` keeps in
    /// its frame stays allocated while the answer streams, and the meter need not.
    @inline(never)
    private func admit<Door: FrontDoor>(
        _ context: inout RequestContext, _ request: Door.Parsed, door: Door, target: ModelRouter.Target
    ) async throws(GatewayError) {
        let size = context.request.body.readableBytes
        let meter = SpendMeter(target: target, prices: context.live.prices) { counter in
            door.demand(of: request, counter: counter, bodySize: size).prompt
        }
        if meter.lookup == .unpriced, gateway.config.spend.refuseUnpriced {
            throw .unpriced(model: target.requestedModel, provider: target.endpoint.id)
        }
        guard let limiter = gateway.limiter, limiter.policy.mayLimit(key: context.key) else {
            context.meter = meter
            return
        }
        try await reserve(&context, request, door: door, target: target, meter: meter, limiter: limiter)
    }

    /// Admit, with budgets: the request's demand counted and reserved in each. Not inlined into
    /// `admit`, so requests without budgets do not allocate its frame.
    @inline(never)
    private func reserve<Door: FrontDoor>(
        _ context: inout RequestContext, _ request: Door.Parsed, door: Door, target: ModelRouter.Target,
        meter: SpendMeter, limiter: RateLimiter
    ) async throws(GatewayError) {
        let size = context.request.body.readableBytes
        var meter = meter
        let counter = try? ChatTokenCounter(model: target.upstreamModel)
        let needed = await HeavyWork.run(bytes: size) { door.demand(of: request, counter: counter, bodySize: size) }
        meter.prompt = needed.prompt
        context.meter = meter
        let user = context.user ?? gateway.user(of: context)
        do throws(GatewayError) {
            context.accounting = try await TokenAccounting.reserve(
                needed, defaultCompletion: gateway.config.rateLimit.completionReserveTokens,
                spendCompletion: gateway.config.rateLimit.budgetCompletionTokens, limiter: limiter, target: target,
                user: user, userHeader: context.userHeader, key: context.key, price: meter.price,
                metrics: gateway.metrics)
            context.record.span?.rateLimited(refused: nil)
        } catch {
            context.record.span?.rateLimited(refused: error)
            throw error
        }
    }

    /// Recall and prepare: the kept answer the request continues, loaded when `target` needs it,
    /// and the request made ready for `target`.
    private func prepare<Door: FrontDoor>(
        _ context: RequestContext, _ request: Door.Parsed, door: Door, target: ModelRouter.Target
    ) async throws(GatewayError) -> Door.Parsed {
        var kept: StoredResponse?
        if let previous = door.continues(request, target: target) { kept = try await recall(context, previous) }
        return try door.preparing(request, for: target, continuing: kept)
    }

    /// Attempt: the plan's deployments, with retries and fallbacks, until one answers. Not inlined:
    /// its frame is given back once an answer has come, before the answer is relayed.
    @inline(never)
    private func attempt<Door: FrontDoor>(
        _ context: inout RequestContext, _ plan: [ModelRouter.Target], _ request: Door.Parsed, door: Door
    ) async throws(GatewayError) -> Dispatched {
        let (body, client) = (
            context.request.body,
            gateway.clientContext(context.headers, requestID: context.requestID, keyring: context.live.keyring)
        )
        func build(_ target: ModelRouter.Target, _ adapter: any ProviderAdapter) throws(GatewayError) -> UpstreamRequest
        {
            try door.upstreamRequest(request, body: body, target: target, adapter: adapter, client: client)
        }
        return try await gateway.dispatch(plan, record: &context.record, build: build)
    }

    /// Relay: the provider's answer is priced; it is then read whole and written at once
    /// (`relayWhole`), or streamed chunk by chunk with the returned transcoder (`relayStream`). Not
    /// async: a stream's task keeps every frame below `relayStream` for the stream's whole life.
    @inline(never)
    private func relay<Door: FrontDoor>(
        _ context: inout RequestContext, _ upstream: Dispatched, door: Door, request: Door.Parsed
    ) -> (any ChatStreamTranscoder)? {
        let prices = context.live.prices
        context.meter?.answered(by: upstream.target, prices: prices)
        return door.streamTranscoder(for: request, adapter: upstream.adapter, target: upstream.target)
    }

    /// The answer head's fields: the upstream's worth forwarding, the budgets' headers and
    /// `contentType`.
    private func answerHeaders(_ context: RequestContext, _ upstream: Dispatched, contentType: String) -> HTTPFields {
        ForwardedHeaders.response(
            from: upstream.response.headers, contentType: contentType, adding: context.accounting?.headers ?? [])
    }

    /// Writes a stream's head. Not async, so no frame of the stream's task keeps the fields.
    @inline(never)
    private func startStream(_ context: RequestContext, _ upstream: Dispatched) {
        context.writer.startStream(
            contentType: "text/event-stream", forwarding: upstream.response.headers,
            own: context.accounting?.headers ?? [])
    }

    /// Relay of a whole answer: read, converted and kept. Not inlined, like `relayStream`: an
    /// async function's frame holds what every path through it keeps across a wait, and a stream
    /// holds its frames for its whole life.
    @inline(never)
    private func relayWhole<Door: FrontDoor>(
        _ context: inout RequestContext, _ upstream: Dispatched, door: Door, request: Door.Parsed
    ) async throws(GatewayError) -> Outcome {
        let (adapter, provider) = (upstream.adapter, upstream.target.endpoint.id)
        let raw = try await gateway.collect(upstream.response, provider: provider)
        context.record.upstreamEnded()
        let body = context.request.body
        let converted = try gateway.decode(provider: provider) { () throws(GatewayError) in
            try door.answer(raw, to: request, body: body, adapter: adapter, target: upstream.target)
        }
        await keep(owner(context), converted.document, of: request, door: door, target: upstream.target)
        let headers = answerHeaders(context, upstream, contentType: "application/json")
        return .whole(.ok, headers, converted.body, usage: converted.usage)
    }

    /// Relay of a stream: its head, then its chunks as they come, converted.
    @inline(never)
    private func relayStream<Door: FrontDoor>(
        _ context: inout RequestContext, _ upstream: Dispatched, door: Door, request: Door.Parsed,
        transcoder: any ChatStreamTranscoder
    ) async -> Outcome {
        var transcoder = transcoder
        startStream(context, upstream)
        gateway.metrics.streamStarted()
        defer { gateway.metrics.streamFinished() }
        let relay = StreamRelay(writer: context.writer, metrics: gateway.metrics, errorShape: context.errorShape)
        let (caller, target) = (Caller(context), upstream.target)
        let ending = await relay.relay(upstream.response.body, transcoder: &transcoder, record: &context.record) {
            finished in
            // Kept before the stream's last event leaves, so a client can continue it at once.
            await keep(owner(caller), finished.document, of: request, door: door, target: target)
        }
        if case .upstreamFailed(let error, _) = ending {
            gateway.logger.warning(
                "stream failed upstream", metadata: ["provider": "\(context.record.provider)", "error": "\(error)"])
        }
        return .streamed(ending, usage: transcoder.usage, streamedText: transcoder.streamedText)
    }

    /// Recall: the kept answer a request continues, when its caller may read it; otherwise the
    /// 400 OpenAI gives for an unknown one.
    private func recall(_ context: RequestContext, _ id: String) async throws(GatewayError) -> StoredResponse {
        guard let kept = await gateway.responses.get(id), kept.owner == owner(context) else {
            throw GatewayError(
                status: 400, type: "invalid_request_error", message: "Previous response with id '\(id)' not found.",
                code: "previous_response_not_found", param: "previous_response_id")
        }
        return kept
    }

    /// A kept answer its caller reads or deletes; 404 when there is none for the caller.
    private func recallForReading(_ context: RequestContext, _ id: String) async throws(GatewayError) -> StoredResponse
    {
        guard let kept = await gateway.responses.get(id), kept.owner == owner(context) else {
            throw GatewayError(
                status: 404, type: "invalid_request_error", message: "No response found with id '\(id)'.",
                param: "response_id")
        }
        return kept
    }

    /// A page of input items as `input_items` lists them: `order` (`desc`, newest first, by
    /// default), `after` an id, at most `limit` (1 to 100, default 20).
    static func page(_ items: [JSONValue], query: [String: String]) -> JSONValue {
        var ordered = query["order"] == "asc" ? items : items.reversed()
        if let after = query["after"], let index = ordered.firstIndex(where: { $0["id"]?.stringValue == after }) {
            ordered = Array(ordered[(index + 1)...])
        }
        let limit = min(100, max(1, query["limit"].flatMap { Int($0) } ?? 20))
        let data = Array(ordered.prefix(limit))
        return [
            "object": "list", "data": .array(data), "first_id": data.first?["id"] ?? .null,
            "last_id": data.last?["id"] ?? .null, "has_more": .bool(ordered.count > limit),
        ]
    }

    /// Keep: the answer, when the front door keeps it, readable only by `owner` (worked out only
    /// then).
    private func keep<Door: FrontDoor>(
        _ owner: @autoclosure () -> String, _ document: JSONValue?, of request: Door.Parsed, door: Door,
        target: ModelRouter.Target
    ) async {
        guard let document, let kept = door.keeping(request, answer: document, target: target) else { return }
        await gateway.responses.put(
            kept.id,
            StoredResponse(
                owner: owner(), response: kept.response, conversation: kept.conversation,
                inputItems: kept.inputItems))
    }

    /// Who made a request, as far as kept answers care: its gateway key and its headers.
    struct Caller: Sendable {
        /// The name of the request's gateway key.
        let keyName: String?
        /// The request's headers.
        let headers: HTTPFields

        /// The caller of `context`'s request (borrowed: an initializer's argument is otherwise
        /// copied in whole).
        init(_ context: borrowing RequestContext) {
            (keyName, headers) = (context.key?.name, context.headers)
        }
    }

    /// Who a request's kept answers belong to: a digest of its gateway key, or of its credential
    /// without keys.
    private func owner(_ context: RequestContext) -> String {
        owner(Caller(context))
    }

    /// Who `caller`'s kept answers belong to.
    private func owner(_ caller: Caller) -> String {
        let credential = GatewayKeyring.presentedKey(
            authorization: caller.headers.value(of: .authorization), apiKeyHeader: caller.headers.value(of: .apiKey))
        return Hashing.sha256Hex(caller.keyName.map { "key:\($0)" } ?? "token:\(credential ?? "")")
    }

    /// A whole JSON answer of the gateway's own, written from `value`.
    private func answer(_ status: HTTPResponse.Status, value: JSONValue) -> Outcome {
        answer(status, json: ByteBuffer(bytes: JSONWriter.bytes(value)))
    }

    /// A whole JSON answer of the gateway's own.
    private func answer(_ status: HTTPResponse.Status, json: ByteBuffer) -> Outcome {
        .whole(status, [.contentType: "application/json"], json, usage: nil)
    }

    /// End, whatever happened: settles the reservation (what was generated is charged; a failure
    /// before the answer is refunded), then writes what is left of the answer (a whole answer, a
    /// stream's end, or the failure in OpenAI's error shape with the rate-limit headers), records
    /// the metrics and the log line, and gives back the slot.
    private func end(_ context: inout RequestContext, _ outcome: consuming Outcome) async {
        let (status, failure, completion): (Int, GatewayError?, String?)
        switch consume outcome {
        case .whole(let answered, let headers, let body, let usage):
            (status, failure, completion) = await endWhole(&context, answered, headers, body, usage: usage)
        case .streamed(let ending, let usage, let streamedText):
            (status, failure, completion) = await endStream(&context, ending, usage: usage, streamedText: streamedText)
        case .failed(let error):
            (status, failure, completion) = await endFailed(&context, error)
        }
        context.record.record(
            status: status, requestID: context.requestID, gateway: gateway, error: failure, completion: completion)
        if context.holdsSlot { concurrency.release() }
    }

    /// End of a whole answer: charged, then written with its cost. Returns the status, the
    /// failure and the completion to record. Each ending is a function of its own, not inlined, so
    /// `end`'s frame holds none of their values.
    @inline(never)
    private func endWhole(
        _ context: inout RequestContext, _ answered: HTTPResponse.Status, _ headers: consuming HTTPFields,
        _ body: ByteBuffer, usage: TokenUsage?
    ) async -> (Int, GatewayError?, String?) {
        if let dollars = await charge(&context, usage: usage, streamedText: "")?.dollars {
            headers.put(.costUSD, ModelPrice.format(dollars))
        }
        context.record.answered(body)
        let completion = context.record.span?.settings.captureContent == true ? String(buffer: body) : nil
        context.writer.whole(answered, headers, body: body)
        return (answered.code, nil, completion)
    }

    /// End of a stream: charged, then its end (or its error event) written.
    @inline(never)
    private func endStream(
        _ context: inout RequestContext, _ ending: StreamRelay.Ending, usage: TokenUsage?, streamedText: String
    ) async -> (Int, GatewayError?, String?) {
        await charge(&context, usage: usage, streamedText: streamedText)
        let relay = StreamRelay(writer: context.writer, metrics: gateway.metrics, errorShape: context.errorShape)
        let status = await relay.finish(ending) == .clientGone ? 499 : 200
        var failure: GatewayError?
        if case .upstreamFailed(let error, _) = ending { failure = error }
        return (status, failure, context.record.span?.settings.captureContent == true ? streamedText : nil)
    }

    /// End of a request that failed before any answer: its reservation refunded, and the error
    /// written in the client API's shape with the rate-limit headers.
    @inline(never)
    private func endFailed(
        _ context: inout RequestContext, _ error: GatewayError
    ) async -> (Int, GatewayError?, String?) {
        await context.accounting?.refund()
        // The error's own headers, then the budgets' where the error has none of that name.
        var own = error.headers.compactMap { name, value in HTTPField.Name(name).map { ($0, value) } }
        own += context.accounting?.headers.filter { error.headers[$0.name.canonicalName] == nil } ?? []
        if error.status >= 500 {
            gateway.logger.warning(
                "request failed", metadata: ["request_id": "\(context.requestID)", "error": "\(error)"])
        }
        let headers = ForwardedHeaders.response(contentType: "application/json", adding: own)
        let (answered, body) = context.errorShape.answer(error, requestID: context.requestID)
        context.writer.whole(answered, headers, body: body)
        return (answered.code, error, nil)
    }

    /// Charges a priced request for its answer: the provider's usage (or the exact local count
    /// where it reported none) at the answering deployment's price, recorded and settled in the
    /// budgets. Nil for requests that are not priced (no provider answered them).
    @discardableResult
    private func charge(
        _ context: inout RequestContext, usage: TokenUsage?, streamedText: String
    ) async -> SpendMeter.Charge? {
        guard let meter = context.meter else { return nil }
        let charge = await meter.charge(
            reported: usage, streamedText: streamedText, bodySize: context.request.body.readableBytes)
        if charge.estimated { gateway.metrics.usageEstimated(provider: meter.target.endpoint.id.rawValue) }
        context.record.charged(charge)
        await context.accounting?.settle(charge)
        return charge
    }
}

extension HTTPField.Name {
    /// `x-switchyard-cost-usd`: what a whole answer cost, in dollars.
    static let costUSD = HTTPField.Name("x-switchyard-cost-usd")!
}

extension GatewayError {
    /// The refusal of a model without a price when `REFUSE_UNPRICED` is on.
    static func unpriced(model: String, provider: ProviderID) -> GatewayError {
        GatewayError(
            status: 403, type: "permission_error",
            message:
                "The model `\(model)` on provider `\(provider)` has no price, and this gateway refuses unpriced models. Ask its operator to add a price.",
            code: "model_not_priced", param: "model")
    }

    /// The error a request ends with when its client went away first (nginx's 499); the client
    /// never sees it, the metrics and the log line do.
    static var clientClosed: GatewayError {
        GatewayError(
            status: 499, type: "invalid_request_error",
            message: "The client closed the connection before the answer was ready.", code: "client_closed_request")
    }
}
