// swift-tools-version:6.1
// The benchmark suite: a package of its own, so the main build and CI never depend on
// package-benchmark. It benchmarks the root package through a path dependency.
import PackageDescription

let package = Package(
    name: "NanoKernelBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: []
)
