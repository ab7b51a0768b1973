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
            ],
            swiftSettings: swiftSettings + [.strictMemorySafety()]
        ),
        .target(
            name: "Control",
            dependencies: ["Ingest"],
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
                "Workload",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IngestTests",
            dependencies: ["Ingest", "CShims", "Workload"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ControlTests",
            dependencies: ["Control"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HyphaEndToEndTests",
            dependencies: ["Ingest", "Workload", "hypha"],
            swiftSettings: swiftSettings
        ),
    ],
    cLanguageStandard: .gnu11
)
