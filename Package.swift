// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "kfwd",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "KubeClient", targets: ["KubeClient"]),
        .library(name: "KubeSim", targets: ["KubeSim"]),
        .library(name: "Forwarding", targets: ["Forwarding"]),
        .executable(name: "kubesim", targets: ["kubesim"]),
        .executable(name: "kfwd", targets: ["kfwd"]),
        .executable(name: "kfwd-relay", targets: ["kfwd-relay"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        .target(name: "KubeLabels"),
        .target(name: "KfwdVersion"),
        // The engine's shared concurrency primitives: one subscriber table, one change signal.
        .target(name: "Signals"),
        .target(
            name: "ChannelGlue",
            dependencies: [.product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")]
        ),
        .target(name: "RelayProtocol", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "SPDY",
            dependencies: [
                "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ]
        ),
        .target(
            name: "KubeClient",
            dependencies: [
                "ChannelGlue", "KubeLabels", "Signals", "SPDY",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "KubeSim",
            dependencies: [
                "ChannelGlue", "KubeLabels", "SPDY",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "Forwarding",
            dependencies: [
                "ChannelGlue", "KfwdVersion", "KubeClient", "KubeLabels", "RelayProtocol", "Signals",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ConfigStore",
            dependencies: [
                "Forwarding", "KubeClient", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Yams", package: "Yams"),
                .product(name: "Subprocess", package: "swift-subprocess"), .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ControlAPI",
            dependencies: [
                "ChannelGlue", "ConfigStore", "Forwarding", "KubeClient",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        .target(
            name: "Daemon",
            dependencies: [
                "ChannelGlue", "ConfigStore", "ControlAPI", "Forwarding", "KubeClient", "RelayProtocol", "Signals",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `kfwd tui`'s model and drawing: values that unit tests render into text grids.
        .target(name: "TerminalUI", dependencies: ["ConfigStore", "ControlAPI", "Forwarding"]),
        .executableTarget(
            name: "kfwd",
            dependencies: [
                "ConfigStore", "ControlAPI", "Daemon", "TerminalUI", "Forwarding", "KfwdVersion", "KubeClient", "KubeSim", "RelayProtocol", "RelayServer",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "RelayServer",
            dependencies: [
                "ChannelGlue", "KfwdVersion", "RelayProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(name: "kfwd-relay", dependencies: ["RelayServer", .product(name: "Logging", package: "swift-log")]),
        .executableTarget(
            name: "kubesim",
            dependencies: [
                "KubeClient", "KubeSim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "KubeClientTests",
            dependencies: [
                "KubeClient",
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SPDYTests",
            dependencies: [
                "SPDY",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "RelayProtocolTests",
            dependencies: ["RelayProtocol", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "ForwardingTests",
            dependencies: [
                "Forwarding", "KubeClient", "RelayProtocol", "Signals",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "TerminalUITests", dependencies: ["TerminalUI", "ControlAPI", "ConfigStore"]),
        .testTarget(name: "KubeSimTests", dependencies: ["KubeSim", "KubeLabels"]),
        .testTarget(name: "ConfigStoreTests", dependencies: ["ConfigStore", "Forwarding", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "ConfigStore", "ControlAPI", "Daemon", "Forwarding", "KubeClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "CLITests", dependencies: ["kfwd", "ConfigStore", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "ControlAPI", "ConfigStore", "KfwdVersion", "KubeClient", "KubeSim", "Forwarding", "RelayProtocol", "kfwd", "kfwd-relay", "kubesim",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
    ]
)
