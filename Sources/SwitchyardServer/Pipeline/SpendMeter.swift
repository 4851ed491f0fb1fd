import SwitchyardCore

/// One request's spending: the price of the deployment that answers it, and the usage it is
/// charged, as the provider reported it or, where it reported none, counted exactly here (the
/// prompt with the routed model's tokenizer, the completion from the streamed text).
struct SpendMeter: Sendable {
    /// What the request was charged.
    struct Charge: Sendable {
        /// The usage charged.
        var usage: TokenUsage
        /// The cost in dollars; nil for a model without a price.
        var dollars: Double?
        /// Whether the usage was counted here because the provider reported none.
        var estimated: Bool

        /// The cost in billionths of a dollar (0 when unpriced), as budgets settle it.
        var nanodollars: Int { dollars.map(ModelPrice.nanodollars) ?? 0 }
    }

    /// The deployment whose price applies: the first planned, then the one that answered.
    private(set) var target: ModelRouter.Target
    /// Its price.
    private(set) var lookup: PriceTable.Lookup
    /// The prompt's tokens, when admission counted them.
    var prompt: Int?
    /// Counts the prompt when admission did not (no budget applied).
    let countPrompt: @Sendable (ChatTokenCounter?) -> Int

    /// A meter priced for `target`.
    init(target: ModelRouter.Target, prices: PriceTable, countPrompt: @escaping @Sendable (ChatTokenCounter?) -> Int) {
        self.target = target
        self.lookup = prices.lookup(target.upstreamModel, at: target.endpoint)
        self.countPrompt = countPrompt
    }

    /// The price, when the model has one (free providers cost nothing).
    var price: ModelPrice? {
        switch lookup {
        case .priced(let price, _): price
        case .free: ModelPrice(input: 0, output: 0)
        case .unpriced: nil
        }
    }

    /// Re-prices for the deployment that answered, when a retry or fallback moved the request.
    mutating func answered(by answering: ModelRouter.Target, prices: PriceTable) {
        guard answering != target else { return }
        target = answering
        lookup = prices.lookup(answering.upstreamModel, at: answering.endpoint)
    }

    /// The charge for an answer whose provider reported `reported` (nil: count the prompt and
    /// `streamedText` here).
    func charge(reported: TokenUsage?, streamedText: String, bodySize: Int) async -> Charge {
        let usage: TokenUsage
        if let reported {
            usage = reported
        } else {
            let (prompt, model, countPrompt) = (self.prompt, target.upstreamModel, self.countPrompt)
            usage = await HeavyWork.run(bytes: bodySize + streamedText.utf8.count) {
                let counter = try? ChatTokenCounter(model: model)
                let completion = counter?.completionTokens(text: streamedText) ?? streamedText.utf8.count / 4
                return TokenUsage(promptTokens: prompt ?? countPrompt(counter), completionTokens: completion)
            }
        }
        return Charge(usage: usage, dollars: price?.dollars(usage), estimated: reported == nil)
    }
}
