// swift-tools-version: 6.2
// 6.2 for .strictMemorySafety() on the targets that hold raw pointers, and for lifetime
// dependencies (`~Escapable` views of borrowed bytes).
import PackageDescription

/// Settings shared by every Swift target (CONTRIBUTING.md, "Style").
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// The targets that touch raw memory: every `unsafe` is marked, and borrowed views of bytes
/// (`ByteView`) are non-escapable, which the `Lifetimes` feature lets them declare (SwiftNIO
/// enables it for the same reason).
let unsafeCodeSettings: [SwiftSetting] = swiftSettings + [
    .strictMemorySafety(),
    .enableExperimentalFeature("Lifetimes"),
]

// Hypha runs on Linux only (Glibc, fallocate, epoll); Sources/Platform/Platform.swift stops a
// build elsewhere with an error that says so. Dependencies are pinned to exact versions so that
// every build resolves the same code.
let package = Package(
    name: "hypha",
    products: [
        .executable(name: "hypha", targets: ["hypha"]),
        .library(name: "Platform", targets: ["Platform"]),
        .library(name: "WAL", targets: ["WAL"]),
        .library(name: "Wire", targets: ["Wire"]),
        .library(name: "Ingest", targets: ["Ingest"]),
        .library(name: "Control", targets: ["Control"]),
        .library(name: "Query", targets: ["Query"]),
        .library(name: "Agent", targets: ["Agent"]),
        .library(name: "Workload", targets: ["Workload"]),
        .library(name: "PromQL", targets: ["PromQL"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", exact: "0.2.0"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
    ],
    targets: [
        // The C core: lz4/zstd, CRC32C, mmap'd segment files, the batch header.
        .target(
            name: "CShims",
            cSettings: [
                .define("_GNU_SOURCE"),
                .unsafeFlags(["-O3"], .when(configuration: .release)),
            ],
            linkerSettings: [.linkedLibrary("lz4"), .linkedLibrary("zstd")]
        ),
        // Files, the data-directory lock, worker threads, clocks, CRC32C, the byte codec.
        .target(name: "Platform", dependencies: ["CShims"], swiftSettings: unsafeCodeSettings),
        // Segments, shard logs, recovery, reader, verifier, retention, the record model and codec.
        .target(
            name: "WAL",
            dependencies: ["CShims", "Platform", .product(name: "Logging", package: "swift-log")],
            swiftSettings: unsafeCodeSettings
        ),
        // The native protocol's frames, both directions, for the node and for its clients.
        .target(
            name: "Wire",
            dependencies: ["Platform", "WAL", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: unsafeCodeSettings
        ),
        // Decoders, listeners, batching, backpressure, acks.
        .target(
            name: "Ingest",
            dependencies: [
                "Platform", "WAL", "Wire",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: unsafeCodeSettings
        ),
        // Log filters and scans over the WAL: `hypha query`, the /api/v1/logs endpoints. Raw
        // pointers for POSIX regular expressions (regcomp/regexec).
        .target(name: "Query", dependencies: ["Platform", "WAL"], swiftSettings: unsafeCodeSettings),
        // Registry, health, alerts, tasks under leases, configuration rollouts, the control store.
        .target(
            name: "Control",
            dependencies: [
                "Platform", "WAL", "Wire",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // The PromQL subset over the WAL's metric samples: parser, series scan, evaluator,
        // the Prometheus API's JSON.
        .target(name: "PromQL", dependencies: ["Platform", "WAL"], swiftSettings: swiftSettings),
        // One table per command for its settings: flags, YAML keys, ranges, help and docs.
        .target(
            name: "Settings",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // `hypha agent`, the daemon on every host: its readers (emitting through Ingest's
        // RecordSink; listen decodes with Ingest's framers), the spool, the session with a node,
        // tasks and pushed configuration.
        .target(
            name: "Agent",
            dependencies: [
                "CShims", "Platform", "WAL", "Wire", "Ingest", "Settings",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: unsafeCodeSettings
        ),
        // `hypha serve`: configuration, the HTTP API, the services under one ServiceGroup.
        .target(
            name: "Server",
            dependencies: [
                "Platform", "WAL", "Ingest", "Control", "Query", "PromQL", "Settings",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The `hypha bench` runners.
        .target(
            name: "Bench",
            dependencies: [
                "Platform", "WAL", "Wire", "Fleet", "Workload", "Control",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Simulated daemons speaking the native protocol: end-to-end tests and `hypha bench control`.
        .target(
            name: "Fleet",
            dependencies: [
                "Platform", "WAL", "Wire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Deterministic, realistic generated traffic.
        .target(name: "Workload", dependencies: ["WAL"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "hypha",
            dependencies: [
                "WAL", "Query", "PromQL", "Server", "Agent", "Settings", "Workload", "Bench", "Platform",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // What every test target shares: temporary directories, waiting without fixed sleeps,
        // the binary runner, quiet loggers.
        .target(
            name: "TestSupport",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "TestSupportTests", dependencies: ["TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server", "Settings", "Control", "Ingest", "WAL", "Wire", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PromQLTests",
            dependencies: ["PromQL", "WAL", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IngestTests",
            dependencies: [
                "Platform", "WAL", "Wire", "Ingest", "Workload", "Fleet", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AgentTests",
            dependencies: [
                "Agent", "Platform", "WAL", "Wire", "Ingest", "Settings", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "QueryTests",
            dependencies: ["Query", "Platform", "WAL", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ControlTests",
            dependencies: ["Platform", "WAL", "Wire", "Control", "Workload", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BenchTests",
            dependencies: ["Bench", "Platform", "WAL", "Wire", "hypha", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HyphaEndToEndTests",
            dependencies: [
                "Platform", "WAL", "Wire", "Control", "Fleet", "hypha", "TestSupport", .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    cLanguageStandard: .gnu11
)
