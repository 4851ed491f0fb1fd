// swift-tools-version: 6.2
import PackageDescription

// The stack's floor for `bench/run`: a bare SwiftNIO HTTP/1.1 reverse proxy with no gateway logic,
// a package of its own so that it builds only SwiftNIO.
let package = Package(
    name: "nio-floor",
    platforms: [.macOS(.v15)],
    dependencies: [.package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2")],
    targets: [
        .executableTarget(
            name: "NIOFloor",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        )
    ]
)
