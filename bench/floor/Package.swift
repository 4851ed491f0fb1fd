// swift-tools-version: 6.2
import PackageDescription

// The stack's floor for `bench/run`: a bare SwiftNIO HTTP/1.1 reverse proxy with no gateway logic,
// and the same proxy calling Switchyard's own per-request logic (SwitchyardCore) on its event loop.
let nio: [Target.Dependency] = ["NIOCore", "NIOPosix", "NIOHTTP1"].map { .product(name: $0, package: "swift-nio") }

let package = Package(
    name: "nio-floor",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(name: "switchyard", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "NIOFloor",
            dependencies: nio + [.product(name: "SwitchyardCore", package: "switchyard")]
        )
    ]
)
