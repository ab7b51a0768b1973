// swift-tools-version: 6.2
// A nested package so that `swift build` / `swift test` of the main package never compile the
// benchmark harness. Run with `swift package --package-path Benchmarks benchmark` from the
// repository root (or `swift package benchmark` from this directory).
// >= 6.1 for package traits: naming `traits:` replaces ordo-one/benchmark's default traits and
// so drops "RuntimeInterposer", whose dependency (ordo-one/swift-runtime-interposer) is not
// available on the build machines (CONTRIBUTING.md, "Benchmarks").
import PackageDescription

let package = Package(
    name: "hypha-benchmarks",
    dependencies: [
        // `name:` fixes the path dependency's identity; without it the identity is the
        // checkout's directory name, which differs between clones.
        .package(name: "hypha", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "WALBench",
            dependencies: [
                .product(name: "Platform", package: "hypha"),
                .product(name: "WAL", package: "hypha"),
                .product(name: "Workload", package: "hypha"),
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/WALBench",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
