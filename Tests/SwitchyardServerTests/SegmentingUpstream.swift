import Foundation
import NIOCore
import SwitchyardCore
import Synchronization

/// A keep-alive HTTP/1.1 upstream that plays every provider (`ProviderAnswers`) and writes each
/// answer, with the headers real providers send besides the framing (`realHeaders`), cut the way
/// real servers and networks cut them: the head alone, one event per write
/// back to back, everything after the head in one burst, the end together with the last data or
/// alone, random pieces down to single bytes, with short random pauses; content-length and
/// chunked framing both, and now and then `connection: close`. The cuts follow a seeded generator,
/// so a failing run can be replayed.
final class SegmentingUpstream: Sendable {
    /// How an answer's bytes are cut into writes.
    enum Cut: CaseIterable {
        /// The whole answer in one write, as nginx sends a small answer.
        case whole
        /// The head, each event and the terminator each in their own write (aiohttp's shape).
        case pieceByPiece
        /// The head alone, then the whole body and its end in one write: a burst.
        case headThenBurst
        /// One write per event, but the last event and the body's end together.
        case endWithLastData
        /// Cut at random byte positions into pieces of up to a random size (1 to 1,500 bytes).
        case randomPieces
        /// One byte per write for the head and the start of the body and for the last bytes.
        case bytesAtTheEdges
    }

    /// What the connections' scripts share.
    final class Switches: Sendable {
        /// Whether answers are cut; off, every answer goes out in one write.
        let cutting = Atomic<Bool>(true)
        let answered = Atomic<Int>(0)
        /// When the last byte of each answer was written, by the request's `x-request-id`.
        let written = Mutex<[String: ContinuousClock.Instant]>([:])
    }

    let server: ScriptedServer
    private let switches: Switches

    var port: Int { server.port }
    /// Answers written so far.
    var answers: Int { switches.answered.load(ordering: .relaxed) }

    /// When the last byte of the answer to the request with `x-request-id: id` was written.
    func written(_ id: String) -> ContinuousClock.Instant? { switches.written.withLock { $0[id] } }

    /// Starts the upstream; the cuts of the `n`th connection follow `seed` and `n`.
    init(seed: UInt64) async throws {
        let switches = Switches()
        self.switches = switches
        server = try await ScriptedServer { index, connection in
            var random = SplitMix64(seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
            try await connection.executeThenClose { inbound, _ in
                var requests = inbound.makeAsyncIterator()
                while let request = try await ScriptedServer.readRequest(&requests) {
                    let close = random.next() % 10 == 0
                    let cut =
                        switches.cutting.load(ordering: .relaxed) ? Cut.allCases.randomElement(using: &random)! : .whole
                    let writes = Self.writes(
                        for: request, cut: cut, chunked: Bool.random(using: &random), close: close, random: &random)
                    for write in writes {
                        if random.next() % 8 == 0 {
                            try await Task.sleep(for: .microseconds(Int(random.next() % 1_500)))
                        }
                        try await connection.channel.writeAndFlush(write)
                    }
                    switches.answered.add(1, ordering: .relaxed)
                    if let id = Self.header("x-request-id", in: request) {
                        switches.written.withLock { $0[id] = .now }
                    }
                    if close { return }
                }
            }
        }
    }

    /// Sends every later answer in one write (`false`) or cut (`true`).
    func cut(_ on: Bool) { switches.cutting.store(on, ordering: .relaxed) }

    func stop() async { await server.stop() }

    /// The writes that carry the answer to `request` (a 404 for a path no provider serves).
    static func writes(
        for request: String, cut: Cut, chunked: Bool, close: Bool, random: inout SplitMix64
    ) -> [ByteBuffer] {
        let (path, body) = parse(request)
        let known = ProviderAnswers.answer(path: path, body: body)
        let answer =
            known ?? ProviderAnswers.Answer(contentType: "application/json", pieces: [#"{"error":"unknown path"}"#])
        let status = known == nil ? "404 Not Found" : "200 OK"
        let pieces = answer.pieces.map { Array($0.utf8) }
        var head = "HTTP/1.1 \(status)\r\ncontent-type: \(answer.contentType)\r\n" + realHeaders
        if answer.contentType.hasPrefix("text/event-stream") { head += "cache-control: no-cache, must-revalidate\r\n" }
        head += chunked ? "transfer-encoding: chunked\r\n" : "content-length: \(pieces.reduce(0) { $0 + $1.count })\r\n"
        if close { head += "connection: close\r\n" }
        head += "\r\n"
        var parts = [Array(head.utf8)]
        parts +=
            chunked ? pieces.map { Array("\(String($0.count, radix: 16))\r\n".utf8) + $0 + Array("\r\n".utf8) } : pieces
        if chunked { parts.append(Array("0\r\n\r\n".utf8)) }
        return split(parts, cut: cut, random: &random).map { ByteBuffer(bytes: $0) }
    }

    /// Headers real providers send besides the framing: some the gateway forwards, some it drops
    /// (its own request id, cookies) or replaces.
    static let realHeaders =
        "openai-processing-ms: 12\r\nx-request-id: req_upstream\r\nrequest-id: req_upstream\r\n"
        + "set-cookie: __cf_bm=abc; path=/; HttpOnly\r\n"

    /// Groups or cuts `parts` (the head, the framed body pieces, the terminator) into writes.
    static func split(_ parts: [[UInt8]], cut: Cut, random: inout SplitMix64) -> [[UInt8]] {
        let all = parts.flatMap { $0 }
        switch cut {
        case .whole:
            return [all]
        case .pieceByPiece:
            return parts
        case .headThenBurst:
            return [parts[0], parts.dropFirst().flatMap { $0 }]
        case .endWithLastData:
            return parts.count > 2 ? parts.dropLast(2) + [parts.suffix(2).flatMap { $0 }] : [all]
        case .randomPieces:
            let largest = [1, 3, 17, 200, 1_500].randomElement(using: &random)!
            var writes: [[UInt8]] = []
            var start = 0
            while start < all.count {
                let end = min(all.count, start + 1 + Int(random.next() % UInt64(largest)))
                writes.append(Array(all[start..<end]))
                start = end
            }
            return writes
        case .bytesAtTheEdges:
            let front = min(all.count, parts[0].count + 64)
            let back = max(front, all.count - 12)
            return all[..<front].map { [$0] } + (back > front ? [Array(all[front..<back])] : [])
                + all[back...].map { [$0] }
        }
    }

    /// The value of the header `name` (lower-case) in `request`.
    static func header(_ name: String, in request: String) -> String? {
        let head = request.components(separatedBy: "\r\n\r\n").first ?? ""
        for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix(name + ":") {
            return line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// The path and JSON body of a request as `ScriptedServer.readRequest` returns it.
    static func parse(_ request: String) -> (path: String, body: [String: Any]) {
        let line = request.prefix { $0 != "\r" }.split(separator: " ")
        let target = line.count > 1 ? String(line[1]) : "/"
        let json = request.range(of: "\r\n\r\n").map { String(request[$0.upperBound...]) } ?? ""
        let body = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
        return (String(target.prefix { $0 != "?" }), body)
    }
}

/// A seeded generator (SplitMix64), so that a test's random choices can be replayed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return FastRandom.mix(state)
    }
}
