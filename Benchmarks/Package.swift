// swift-tools-version:6.1
// The benchmark suite: a package of its own, so the main build and CI never depend on
// package-benchmark. It measures the root package through a path dependency.
// (benchmark's default trait RuntimeInterposer needs ordo-one/swift-runtime-interposer,
// which is not available here: only MallocInterposer is enabled.)
import PackageDescription

let package = Package(
    name: "NanoKernelBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "NanoKernel", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "CallPath",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "LRPC", package: "NanoKernel"),
                .product(name: "Interfaces", package: "NanoKernel"),
                .product(name: "NanoKernel", package: "NanoKernel"),
            ],
            path: "Benchmarks/CallPath",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    ]
)
