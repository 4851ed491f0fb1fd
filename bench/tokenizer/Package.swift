// swift-tools-version: 6.2
import PackageDescription

// The tokenizer benchmark: a package of its own so that it builds only the tokenizer.
let package = Package(
    name: "tokenizer-bench",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "switchyard", path: "../..")],
    targets: [
        .executableTarget(
            name: "TokenizerBench",
            dependencies: [.product(name: "SwitchyardTokenizer", package: "switchyard")]
        )
    ]
)
