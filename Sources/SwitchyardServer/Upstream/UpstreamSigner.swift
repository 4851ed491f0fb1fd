import Foundation
import NIOCore
import NIOFoundationCompat
import SwitchyardCore
import Synchronization

/// Signs or authorizes cloud providers' requests just before they are sent: AWS Signature
/// Version 4 (over the final headers and body, with the current time) for Bedrock, and a Google
/// OAuth access token for Vertex AI, minted from a service account's key and cached per provider
/// until five minutes before it expires (one refresh shared by concurrent requests).
final class UpstreamSigner: Sendable {
    /// A cached access token.
    private struct Token {
        var value: String
        var expires: ContinuousClock.Instant
    }

    private let transport: any UpstreamTransport
    private let tokens = Mutex<[ProviderID: Task<Token, any Error>]>([:])

    /// A signer that fetches tokens through `transport`.
    init(transport: any UpstreamTransport) { self.transport = transport }

    /// `request`, signed as it says; unchanged when it needs no signing.
    /// - Throws: a 502 naming the provider when a token cannot be had.
    func sign(_ request: UpstreamRequest, provider: ProviderID) async throws(GatewayError) -> UpstreamRequest {
        var request = request
        if signNow(&request) { return request }
        guard case .google(let owner, .serviceAccount(let account))? = request.signing else { return request }
        let token = try await accessToken(for: owner, account: account, timeouts: request.timeouts)
        request.headers.append(("authorization", "Bearer \(token)"))
        return request
    }

    /// Signs `request` where that needs no wait (SigV4, a configured token, or no signing at all)
    /// and says so; false, with `request` unchanged, when it needs a service account's access
    /// token, which only `sign` can wait for. Callers try this first so a request that needs no
    /// wait never allocates `sign`'s async frame. Not inlined: the temporaries of code inlined into
    /// an async function take room in its frame.
    @inline(never)
    func signNow(_ request: inout UpstreamRequest) -> Bool {
        switch request.signing {
        case nil:
            return true
        case .aws(let region, let service, let credentials)?:
            let body = request.body.map { Array($0.readableBytesView) } ?? []
            request.headers += AWSSigV4.sign(
                method: request.method, url: request.url, headers: request.headers, body: body,
                credentials: credentials, region: region, service: service, date: Date())
            return true
        case .google(_, .token(let token))?:
            request.headers.append(("authorization", "Bearer \(token.value)"))
            return true
        case .google(_, .serviceAccount)?:
            return false
        }
    }

    /// A valid access token for `provider`, minted now if the cached one is (nearly) expired.
    private func accessToken(
        for provider: ProviderID, account: GoogleServiceAccount, timeouts: UpstreamTimeouts
    ) async throws(GatewayError) -> String {
        let task = tokens.withLock { tasks -> Task<Token, any Error> in
            if let task = tasks[provider] { return task }
            let task = Task { try await self.mint(account, timeouts: timeouts) }
            tasks[provider] = task
            return task
        }
        do {
            let token = try await task.value
            if token.expires - .seconds(300) > .now { return token.value }
            // Expiring: the first request to see it starts the one refresh the others share.
            let fresh = tokens.withLock { tasks -> Task<Token, any Error> in
                if let current = tasks[provider], current != task { return current }
                let next = Task { try await self.mint(account, timeouts: timeouts) }
                tasks[provider] = next
                return next
            }
            return try await fresh.value.value
        } catch {
            tokens.withLock { tasks in if tasks[provider] == task { tasks[provider] = nil } }
            throw .badGateway(
                "Vertex AI provider `\(provider)`: no access token could be had for \(account.clientEmail) (\(Self.describe(error)))."
            )
        }
    }

    /// Exchanges the account's signed JWT for an access token at its token endpoint.
    private func mint(_ account: GoogleServiceAccount, timeouts: UpstreamTimeouts) async throws -> Token {
        let assertion = try account.assertion(now: Date())
        let form = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=\(assertion)"
        let request = UpstreamRequest(
            method: "POST", url: account.tokenURI,
            headers: [("content-type", "application/x-www-form-urlencoded"), ("accept", "application/json")],
            body: ByteBuffer(string: form), timeouts: timeouts.capped(at: 30)
        ).readingWholeAnswer()
        let response = try await transport.execute(request)
        let body = try await response.collect(limit: 1 << 20)
        guard (200..<300).contains(response.status) else {
            throw TokenFailure(
                description: "the token endpoint answered \(response.status): \(String(buffer: body).prefix(200))")
        }
        guard let object = (try? JSONParser.parse(body.readableBytesView))?.objectValue,
            let token = object["access_token"]?.stringValue
        else { throw TokenFailure(description: "the token endpoint's answer holds no access_token") }
        let lifetime = object["expires_in"]?.intValue ?? 3600
        return Token(value: token, expires: .now + .seconds(lifetime))
    }

    /// A failure's description without secrets (tokens and keys are never in these messages).
    private static func describe(_ error: any Error) -> String {
        if let failure = error as? TokenFailure { return failure.description }
        if let transport = error as? TransportError { return transport.message }
        return "the service account key could not sign: \(error)"
    }

    /// Why a token could not be had.
    private struct TokenFailure: Error, CustomStringConvertible {
        var description: String
    }
}
