/// The Prometheus text exposition format, parsed: one sample per line that is not a comment.
struct Exposition {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct FormatError: Error { let line: String }

    let samples: [Sample]
    /// Metric name -> declared type, from the `# TYPE` lines.
    let types: [String: String]

    init(_ text: String) throws {
        var samples: [Sample] = []
        var types: [String: String] = [:]
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4 else { throw FormatError(line: line) }
                types[String(parts[2])] = String(parts[3])
                continue
            }
            if line.hasPrefix("#") || line.isEmpty { continue }
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                throw FormatError(line: line)
            }
            let series = line[..<space]
            var labels: [String: String] = [:]
            let name: Substring
            if let brace = series.firstIndex(of: "{") {
                guard series.hasSuffix("}") else { throw FormatError(line: line) }
                name = series[..<brace]
                var rest = series[series.index(after: brace)..<series.index(before: series.endIndex)]
                while !rest.isEmpty {
                    guard let equals = rest.firstIndex(of: "="), rest[rest.index(after: equals)] == "\"" else {
                        throw FormatError(line: line)
                    }
                    let key = String(rest[..<equals])
                    var index = rest.index(equals, offsetBy: 2)
                    var value = ""
                    while rest[index] != "\"" {
                        if rest[index] == "\\" { index = rest.index(after: index) }
                        value.append(rest[index])
                        index = rest.index(after: index)
                    }
                    labels[key] = value
                    rest = rest[rest.index(after: index)...]
                    if rest.first == "," { rest = rest.dropFirst() }
                }
            } else {
                name = series
            }
            samples.append(Sample(name: String(name), labels: labels, value: value))
        }
        self.samples = samples
        self.types = types
    }

    /// The sum of the samples named `name` whose labels include `labels` (0 when there are none).
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double {
        samples.filter { sample in
            sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value }
        }
        .reduce(0) { $0 + $1.value }
    }

    /// Whether any sample is named `name`.
    func has(_ name: String) -> Bool { samples.contains { $0.name == name } }
}
