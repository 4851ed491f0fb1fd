import SwitchyardCore
import Synchronization

/// What the gateway has learned of its providers while serving: an OpenAI provider configured to
/// serve `/responses` that answered a passed-through Responses request with "no such endpoint"
/// (an OpenAI-compatible server without it) is translated for from then on.
final class LearnedCapabilities: Sendable {
    private let withoutResponses = Mutex<Set<ProviderID>>([])

    /// `provider` lacks the native API a request was passed through to (`/responses`).
    func lacksNativeAPI(_ provider: ProviderID) {
        _ = withoutResponses.withLock { $0.insert(provider) }
    }

    /// `target` as the gateway now knows its provider.
    func adjusted(_ target: ModelRouter.Target) -> ModelRouter.Target {
        guard target.endpoint.servesResponses, withoutResponses.withLock({ $0.contains(target.endpoint.id) }) else {
            return target
        }
        var target = target
        target.endpoint.servesResponses = false
        return target
    }

    /// Whether `error`, answering a request passed through to a native API, says the endpoint
    /// does not exist there (rather than, say, that the model does not).
    static func isMissingEndpoint(_ error: GatewayError) -> Bool {
        [404, 405, 501].contains(error.status) && error.code != "model_not_found"
    }
}
