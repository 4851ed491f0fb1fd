import Foundation

extension ConfigLoader {
    func buildReliability(values: SettingValues) throws(ConfigError) -> ReliabilitySettings {
        var reliability = ReliabilitySettings()
        reliability.maxRetries = try values.int(.upstreamMaxRetries, default: reliability.maxRetries, range: 0...10)
        reliability.retryBudgetSeconds = try values.seconds(
            .upstreamRetryBudgetSeconds, default: reliability.retryBudgetSeconds)
        reliability.breakerFailures = try values.int(
            .circuitBreakerFailures, default: reliability.breakerFailures, range: 1...1000)
        reliability.breakerCooldownSeconds = try values.seconds(
            .circuitBreakerCooldownSeconds, default: reliability.breakerCooldownSeconds)
        reliability.maxConcurrentRequests = try values.int(
            .maxConcurrentRequests, default: reliability.maxConcurrentRequests, range: 0...1_000_000)
        reliability.upstreamIdleConnections = try values.int(
            .upstreamIdleConnections, default: reliability.upstreamIdleConnections, range: 0...100_000)
        reliability.maxUpstreamAnswerBytes = try values.int(
            .maxUpstreamAnswerBytes, default: reliability.maxUpstreamAnswerBytes, range: 1024...Int(Int32.max))
        reliability.responseStoreBytes = try values.int(
            .responseStoreMaxBytes, default: reliability.responseStoreBytes, range: 0...Int(Int32.max))
        reliability.responseStoreSeconds = try values.seconds(
            .responseStoreTTLSeconds, default: reliability.responseStoreSeconds)
        return reliability
    }
}
