// swift-tools-version:6.0
// A key-value service and a statistics service that is also a client (of kv and of the
// clock), in a package of their own that depends on NanoKernel by path.
import PackageDescription

let package = Package(
    name: "kv",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "NanoKernel", path: "../.."),
    ],
    targets: [
        // The interfaces, declared once; shared by servers, clients and tests.
        .target(name: "KVInterface", dependencies: [.product(name: "LRPC", package: "NanoKernel"),
                                                    .product(name: "Interfaces", package: "NanoKernel")]),
        // NanoService carries the static link every domain needs.
        .executableTarget(name: "kv-store", dependencies: ["KVInterface", .product(name: "NanoService", package: "NanoKernel")]),
        .executableTarget(name: "kv-stats", dependencies: ["KVInterface", .product(name: "NanoService", package: "NanoKernel")]),
        .testTarget(name: "KVTests", dependencies: ["KVInterface", .product(name: "NanoKernelTesting", package: "NanoKernel")]),
    ]
)
