import Foundation
import Testing

@testable import SwitchyardCore

@Suite("Chat token counting")
struct ChatTokenCounterTests {
    /// The example conversation of OpenAI's cookbook "How to count tokens with tiktoken".
    static let cookbook: [JSONValue] = [
        [
            "role": "system",
            "content":
                "You are a helpful, pattern-following assistant that translates corporate jargon into plain English.",
        ],
        ["role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."],
        [
            "role": "system", "name": "example_assistant",
            "content": "Things working well together will increase revenue.",
        ],
        [
            "role": "system", "name": "example_user",
            "content":
                "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.",
        ],
        [
            "role": "system", "name": "example_assistant",
            "content": "Let's talk later when we're less busy about how to do better.",
        ],
        [
            "role": "user",
            "content": "This late pivot means we don't have time to boil the ocean for the client deliverable.",
        ],
    ]

    @Test(
        "The cookbook conversation counts as OpenAI documents (129 for gpt-4, 124 for gpt-4o)",
        arguments: [
            ("gpt-4", 129), ("gpt-3.5-turbo", 129), ("gpt-4o", 124), ("gpt-4o-mini", 124), ("openai/gpt-4o", 124),
        ])
    func cookbook(model: String, expected: Int) throws {
        #expect(try ChatTokenCounter(model: model).promptTokens(messages: Self.cookbook) == expected)
    }

    @Test("A tool result message counts its tool_call_id like any string field (15, from tiktoken)")
    func toolMessage() throws {
        let counter = try ChatTokenCounter(model: "gpt-4o")
        #expect(
            counter.promptTokens(messages: [["role": "tool", "tool_call_id": "call_1", "content": "{\"temp\":21}"]])
                == 15)
    }

    @Test("Content parts: text counts exactly, images by the documented estimate")
    func parts() throws {
        let counter = try ChatTokenCounter(model: "gpt-4o")
        let text: JSONValue = ["type": "text", "text": "What is in this image?"]  // 6 tokens
        let low: JSONValue = [
            "type": "image_url", "image_url": ["url": "data:image/png;base64,AAAA", "detail": "low"],
        ]
        let auto: JSONValue = ["type": "image_url", "image_url": ["url": "data:image/png;base64,AAAA"]]
        let message: JSONValue = .object(["role": "user", "content": .array([text, low, auto])])
        // 3 (reply) + 3 (message) + 1 ("user") + 6 + 85 + 765
        #expect(counter.promptTokens(messages: [message]) == 3 + 3 + 1 + 6 + 85 + 765)
    }

    @Test("Assistant tool calls count name and arguments plus framing")
    func toolCalls() throws {
        let counter = try ChatTokenCounter(model: "gpt-4o")
        let call: JSONValue = [
            "id": "call_1", "type": "function", "function": ["name": "get_weather", "arguments": #"{"city":"Paris"}"#],
        ]
        let message: JSONValue = .object(["role": "assistant", "content": .null, "tool_calls": .array([call])])
        // get_weather = 2 tokens, {"city":"Paris"} = 5 tokens (tiktoken), "assistant" = 1
        #expect(counter.promptTokens(messages: [message]) == 3 + 3 + 1 + (3 + 2 + 5))
    }

    @Test("Tool definitions add an estimate that grows with the schema")
    func toolDefinitions() throws {
        let counter = try ChatTokenCounter(model: "gpt-4o")
        let small: JSONValue = ["type": "function", "function": ["name": "f"]]
        let large: JSONValue = [
            "type": "function",
            "function": ["name": "f", "description": "Look up the current weather in a city by name."],
        ]
        let base = counter.promptTokens(messages: [["role": "user", "content": "hi"]])
        let withSmall = counter.promptTokens(messages: [["role": "user", "content": "hi"]], tools: [small])
        let withLarge = counter.promptTokens(messages: [["role": "user", "content": "hi"]], tools: [large])
        #expect(withSmall > base + 12)
        #expect(withLarge > withSmall + 8)
    }

    @Test("Completion text counts exactly")
    func completion() throws {
        #expect(try ChatTokenCounter(model: "gpt-4o").completionTokens(text: "What is in this image?") == 6)
    }
}
