// swift-tools-version: 6.2
// Benchmarks live in their own package so that CI's `swift test` never builds them.
// Run: swift run -c release --package-path Benchmarks kfwd-bench
import PackageDescription

let package = Package(
    name: "kfwd-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "kfwd", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "kfwd-bench",
            dependencies: [
                .product(name: "KubeSim", package: "kfwd"),
                .product(name: "KubeClient", package: "kfwd"),
                .product(name: "Forwarding", package: "kfwd"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        )
    ]
)
