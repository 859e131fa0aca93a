// swift-tools-version:6.0
import CompilerPluginSupport
import PackageDescription

// Services are statically linked so their sandbox can deny file opens at start-up.
let staticService: [LinkerSetting] = [.unsafeFlags(["-static-executable"])]

func service(_ name: String, folder: String) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["LRPC", "Interfaces"],
        path: "Sources/Services/\(folder)",
        linkerSettings: staticService)
}

let package = Package(
    name: "NanoKernel",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "nkctl", targets: ["nkctl"]),
        .library(name: "LRPC", targets: ["LRPC"]),
        .library(name: "NanoABI", targets: ["NanoABI"]),
        // For services (and benchmarks) built in packages of their own.
        .library(name: "Interfaces", targets: ["Interfaces"]),
        .library(name: "NanoKernel", targets: ["NanoKernel"]),
        // What a service in a package of its own depends on: runtime, macros, built-in
        // interfaces, swift-log, and the static link every domain needs (Examples/kv).
        .library(name: "NanoService", targets: ["NanoService"]),
        // Boot a real kernel from an image in a service's tests.
        .library(name: "NanoKernelTesting", targets: ["NanoKernelTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", exact: "1.8.1"),
        // The version that matches the Swift 6.3 toolchain; the macros are built with it.
        .package(url: "https://github.com/swiftlang/swift-syntax", exact: "603.0.1"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
    ],
    targets: [
        // Raw Linux syscalls Swift cannot call directly (variadic, macros, hidden headers).
        .target(name: "CNanoKernel", path: "Sources/CNanoKernel"),
        // Domain spawning and seccomp filter building (links libseccomp; kernel only).
        .target(
            name: "CSandbox", path: "Sources/CSandbox",
            linkerSettings: [.linkedLibrary("seccomp")]),
        // The named ABI the kernel and every domain share: shared-memory layouts (typed
        // atomic words), control messages and their tag table, the message transport's
        // headers, binding objects, refusal codes.
        .target(
            name: "NanoABI",
            dependencies: ["CNanoKernel", .product(name: "SystemPackage", package: "swift-system")]),
        // The LRPC runtime every domain links: stubs, the control channel, server threads.
        .target(
            name: "LRPC",
            dependencies: ["NanoABI", "CNanoKernel", "LRPCMacros", .product(name: "SystemPackage", package: "swift-system")]),
        // @AStackValue and @ServiceInterface: layouts, copy code, stubs and handler tables
        // generated from one declaration (runs in the compiler, never in a domain).
        .macro(
            name: "LRPCMacros",
            dependencies: [
                .product(name: "SwiftSyntax", package: "swift-syntax"),
                .product(name: "SwiftSyntaxMacros", package: "swift-syntax"),
                .product(name: "SwiftCompilerPlugin", package: "swift-syntax"),
                .product(name: "SwiftDiagnostics", package: "swift-syntax"),
            ]),
        // What the kernel reports to an operator (status, bindings): encoded by the
        // kernel, decoded and rendered by nkctl.
        .target(name: "NanoAdmin", dependencies: ["NanoABI"]),
        // Typed interface declarations shared by servers and clients.
        .target(name: "Interfaces", dependencies: ["LRPC"]),
        // The service author's product; its link settings reach every executable using it.
        .target(
            name: "NanoService",
            dependencies: ["LRPC", "Interfaces", .product(name: "Logging", package: "swift-log")],
            // Foundation's static archives leave these two to the link (a service that
            // imports Foundation fails to link without them; unused, they add nothing).
            linkerSettings: staticService + [.linkedLibrary("_FoundationCollections"), .linkedLibrary("_FoundationCShims")]),
        .target(name: "NanoKernelTesting", dependencies: ["NanoAdmin", "LRPC"]),
        // Boot images: the TOML subset they are written in, decoding, every check with
        // file, line and field. Read by the kernel and by nkctl.
        .target(name: "BootImage", dependencies: ["LRPC"]),
        // The kernel: domains, bindings, validation.
        .target(name: "NanoKernel", dependencies: ["BootImage", "NanoABI", "NanoAdmin", "LRPC", "CSandbox", "CNanoKernel"]),
        .executableTarget(
            name: "nkctl",
            dependencies: [
                "NanoKernel", "BootImage", "NanoAdmin", "LRPC", "Interfaces", "CNanoKernel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        // The machine's floor: the same handoff patterns written directly in C.
        .executableTarget(name: "nkfloor", path: "Sources/nkfloor"),
        service("nk-name", folder: "name"),
        service("nk-clock", folder: "clock"),
        service("nk-bench", folder: "bench"),
        service("nk-file", folder: "file"),
        // Test-only: crashes or hangs on request (fault campaign, supervision tests).
        service("nk-faulty", folder: "faulty"),
        // Injects faults into a running kernel while clients call it: scripts/fault-campaign.
        .executableTarget(
            name: "nk-fault-campaign",
            dependencies: ["LRPC", "Interfaces", "NanoAdmin"],
            path: "Sources/FaultCampaign",
            // Plain threads sharing locked state, as the tests do.
            swiftSettings: [.swiftLanguageMode(.v5)]),
        // The teaching image's demonstration of what the kernel refuses (images/teaching.toml).
        service("nk-demo", folder: "demo"),
        // Lab 5's worked solution (docs/labs/lab5.md).
        service("nk-counter", folder: "counter"),
        // Test-only: attacks the sandbox from inside a domain (attack code in CHostile).
        .target(name: "CHostile", path: "Sources/CHostile"),
        // Test-only: seeded inputs for the kernel's untrusted surfaces (the fuzz tests and
        // the hostile service's fuzz attack share them).
        .target(name: "KernelFuzz", dependencies: ["LRPC", "Interfaces"]),
        // Test-only: a service that uses the file service as itself (FileServiceTests).
        service("nk-tenant", folder: "tenant"),
        .executableTarget(
            name: "nk-hostile",
            dependencies: ["LRPC", "Interfaces", "CHostile", "KernelFuzz"],
            path: "Sources/Services/hostile",
            linkerSettings: staticService),
        .testTarget(name: "BootImageTests", dependencies: ["BootImage"]),
        .testTarget(
            name: "NanoKernelTests",
            dependencies: ["NanoKernel", "BootImage", "NanoABI", "NanoAdmin", "LRPC", "Interfaces", "NanoKernelTesting", "KernelFuzz"],
            // Tests share plain state with threads they start and join themselves.
            swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(
            name: "LRPCMacrosTests",
            dependencies: [
                "LRPCMacros",
                .product(name: "SwiftSyntaxMacrosTestSupport", package: "swift-syntax"),
                .product(name: "SwiftSyntaxMacroExpansion", package: "swift-syntax"),
            ]),
    ]
)
