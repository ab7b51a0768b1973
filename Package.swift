// swift-tools-version: 6.2
// 6.2 for .strictMemorySafety() on the one target that talks to C.
import PackageDescription

/// Settings shared by every Swift target (CONVENTIONS.md, rule 9).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "hypha",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hypha", targets: ["hypha"]),
        .library(name: "Ingest", targets: ["Ingest"]),
        .library(name: "Control", targets: ["Control"]),
        .library(name: "Workload", targets: ["Workload"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .target(
            name: "CShims",
            cSettings: [
                .define("_GNU_SOURCE"),
                .unsafeFlags(["-O3"], .when(configuration: .release)),
            ],
            linkerSettings: [.linkedLibrary("lz4"), .linkedLibrary("zstd")]
        ),
        .target(
            name: "Ingest",
            dependencies: [
                "CShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings + [.strictMemorySafety()]
        ),
        .target(
            name: "Control",
            dependencies: [
                "Ingest",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Server",
            dependencies: [
                "Ingest",
                "Control",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Bench",
            dependencies: [
                "Ingest",
                "Fleet",
                .product(name: "NIOCore", package: "swift-nio"),
                "Workload",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            // Simulated daemons speaking the native protocol: end-to-end tests and `hypha bench control`.
            name: "Fleet",
            dependencies: [
                "Ingest",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Workload",
            dependencies: ["Ingest"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "hypha",
            dependencies: [
                "Ingest",
                "Control",
                "Server",
                "Workload",
                "Bench",
                "Fleet",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IngestTests",
            dependencies: [
                "Ingest", "CShims", "Workload", "Fleet", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ControlTests",
            dependencies: ["Control", "Ingest", "Workload"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BenchTests",
            dependencies: ["Bench", "Ingest", "Workload", "hypha"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HyphaEndToEndTests",
            dependencies: ["Ingest", "Control", "Workload", "Fleet", "hypha", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
    ],
    cLanguageStandard: .gnu11
)
