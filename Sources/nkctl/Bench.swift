// nkctl bench: the LRPC paper's four calls (null, add, bigIn, bigInOut) timed call by
// call over both transports, every wait-and-placement policy measured, and two clients
// against one — each next to this machine's floor measured in the same run. A
// benchmark, not a test: it checks every result only so that a fast wrong answer can
// never be reported as a fast call.
import ArgumentParser
import CNanoKernel
import Foundation
import Glibc
import Interfaces
import LRPC

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time LRPC and message calls to the bench service against the machine's floor.",
        discussion: """
            The bench sets the kernel's placement and spin for each measurement (the kernel \
            passes them on to every domain) and puts them back when it is done.
              nkctl bench                                     everything, default policy
              nkctl bench --policy placement=same-cpu,spin=0  the main table under one policy
              nkctl bench --transport lrpc --no-sweep --no-scaling
            """)
    @OptionGroup var kernel: KernelOptions
    @Option(help: "Calls per procedure before the timed ones (not recorded).") var warmup = 2000
    @Option(help: "Timed calls per procedure, and round trips per floor pattern.") var iterations = 20000
    @Option(help: "lrpc, message or both.") var transport = TransportChoice.both
    @Option(help: "placement=scheduler|same-cpu|server-cpu|client-cpu|follow-client,spin=N for the main table (default: the measured default).")
    var policy: String?
    @Flag(inversion: .prefixedNo, help: "Measure the null call under every placement and spin.") var sweep = true
    @Flag(inversion: .prefixedNo, help: "Measure one client against two on two CPUs.") var scaling = true
    @Flag(help: "Print one JSON document with every result.") var json = false

    func validate() throws {
        guard warmup >= 0 else { throw ValidationError("--warmup must be 0 or more") }
        // nkfloor's limit, so the floor always runs as many round trips as the calls.
        guard (1...100_000_000).contains(iterations) else { throw ValidationError("--iterations must be from 1 to 100000000") }
        if let policy, Tuning.parse(policy) == nil { throw ValidationError("--policy: expected placement=NAME,spin=N (N in 0...\(Tuning.maximumSpin)), got '\(policy)'") }
    }

    func run() throws {
        let runtime = try kernel.connect()
        let original = try KernelTuning(runtime: runtime)
        defer { try? original.restore() }
        let (placement, spin) = policy.flatMap(Tuning.parse) ?? (Tuning.defaultPlacement, Tuning.defaultSpin)
        let progress = ProgressLine()
        let floor = try FloorRunner(iterations: iterations, progress: progress)

        try original.apply(placement, spin)
        let bindings = try transport.transports.map { try BenchBinding(runtime: runtime, transport: $0) }
        let timer = CallTimer(warmup: warmup, iterations: iterations, progress: progress)
        let calls = try bindings.flatMap { try timer.measureAll($0) }
        let floors = try floor.measureAll(placement: placement, spin: spin)

        let policies = sweep ? try sweepPolicies(runtime, original, floor, timer) : []
        let scalingResult = scaling ? try ScalingRun(socketPath: kernel.socketPath, progress: progress).measure(original) : nil
        progress.clear()

        let report = BenchReport(placement: placement, spin: spin, warmup: warmup, iterations: iterations,
                                 calls: calls, floors: floors, policies: policies, scaling: scalingResult)
        if json { try report.printJSON() } else { report.printTables() }
    }

    /// The null call and its futex3 floor under every placement, spinning and not.
    private func sweepPolicies(_ runtime: DomainRuntime, _ tuning: KernelTuning, _ floor: FloorRunner,
                               _ timer: CallTimer) throws -> [PolicyResult] {
        let binding = try BenchBinding(runtime: runtime, transport: .lrpc)
        var results: [PolicyResult] = []
        for placement in Placement.allCases {
            for spin in [0, 200] {
                try tuning.apply(placement, spin)
                let null = try timer.measureNull(binding)
                let futex3 = try floor.measure("futex3", placement: placement, spin: spin)
                results.append(PolicyResult(placement: placement.rawValue, spin: spin, null: null, futex3: futex3))
            }
        }
        return results
    }
}

enum TransportChoice: String, ExpressibleByArgument {
    case lrpc, message, both
    var transports: [Transport] {
        switch self {
        case .lrpc: [.lrpc]
        case .message: [.message]
        case .both: [.lrpc, .message]
        }
    }
}

/// The kernel's placement and spin: read at the start, set per measurement, put back.
struct KernelTuning {
    let runtime: DomainRuntime
    let original: String

    init(runtime: DomainRuntime) throws {
        self.runtime = runtime
        let current = try JSONDecoder().decode([String: String].self, from: Data(runtime.admin("tune").utf8))
        original = "placement=\(current["placement"] ?? "scheduler"),spin=\(current["spin"] ?? "0")"
    }

    /// Set it in the kernel (which tells every domain), in this process, and pin the
    /// calling thread where the placement puts a client.
    func apply(_ placement: Placement, _ spin: Int) throws {
        _ = try runtime.admin("tune", argument: Tuning.describe(placement, spin))
        Tuning.shared.apply(placement: placement, spin: spin)
        _ = nk_pin_thread(placement.benchClientCPU)
        // The domains pick the policy up on their next wake-up; give the control
        // messages a moment to arrive before anything is timed.
        usleep(50_000)
    }

    func restore() throws {
        _ = try runtime.admin("tune", argument: original)
        _ = nk_pin_thread(-1)
    }
}

extension Placement {
    /// Where the bench's client thread runs: pinned, so that its floor can be pinned the
    /// same way. Follow-client keeps the client on CPU 0 and the call follows it there.
    var benchClientCPU: Int32 {
        switch self {
        case .scheduler: -1
        case .followClient: 0
        default: cpu(for: .client) ?? -1
        }
    }

    /// nkfloor's --cpus for the same placement: client, kernel, server.
    var floorCPUs: String {
        switch self {
        case .scheduler: "-,-,-"
        case .followClient: "0,0,0"
        default: [Role.client, .kernel, .server].map { cpu(for: $0).map(String.init) ?? "-" }.joined(separator: ",")
        }
    }
}

/// A binding to the bench service, with a deadline so a lost call is an error.
struct BenchBinding {
    let binding: ClientBinding
    let transport: Transport
    let runtime: DomainRuntime

    init(runtime: DomainRuntime, transport: Transport) throws {
        self.runtime = runtime
        do { binding = try runtime.importInterface(BenchInterface.name, transport: transport) } catch { throw CommandFailed("\(error)") }
        binding.callTimeoutSeconds = 10
        self.transport = transport
    }
}

/// Makes the calls of one procedure after another and times each one.
struct CallTimer {
    let warmup: Int
    let iterations: Int
    let progress: ProgressLine

    func measureAll(_ bench: BenchBinding) throws -> [CallResult] {
        let payload = (0..<BenchInterface.payloadSize).map { UInt8(truncatingIfNeeded: $0) }
        // Every call gets arguments of its own, so a stale reply cannot pass the check.
        func stamped(_ i: Int) -> [UInt8] {
            var bytes = payload
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: i).littleEndian) { bytes.replaceSubrange(0..<4, with: $0) }
            return bytes
        }
        let async = bench.transport == .lrpc ? [try measureAsyncNull(bench)] : []
        return [
            try measure(bench, BenchInterface.null, arguments: { _ in Empty() }, isCorrect: { _, _ in true }),
            try measure(bench, BenchInterface.add, arguments: { AddArguments(Int32(truncatingIfNeeded: $0), 7) },
                        isCorrect: { $1 == $0.a &+ $0.b }),
            try measure(bench, BenchInterface.bigIn, arguments: { .init(stamped($0)) }, isCorrect: { _, _ in true }),
            try measure(bench, BenchInterface.bigInOut, arguments: { .init(stamped($0)) }, isCorrect: { $1 == $0 }),
        ] + (try measureStubNull(bench)) + async
    }

    func measureNull(_ bench: BenchBinding) throws -> LatencySummary {
        try measure(bench, BenchInterface.null, arguments: { _ in Empty() }, isCorrect: { _, _ in true }).latency
    }

    /// `warmup` calls, then `iterations` timed ones. Only the call itself is inside the
    /// clock reads: building arguments, checking results and progress are outside.
    private func measure<A, R>(_ bench: BenchBinding, _ procedure: Procedure<A, R>, arguments: (Int) -> A,
                               isCorrect: (A, R) -> Bool) throws -> CallResult {
        var samples = [UInt64](repeating: 0, count: iterations)
        for i in 0..<(warmup + iterations) {
            let input = arguments(i)
            let start = monotonicNanoseconds()
            let output: R
            do { output = try bench.binding.call(procedure, input) } catch {
                throw CommandFailed("bench.\(procedure.name) (\(bench.transport.rawValue)), call \(i): \(error)")
            }
            let end = monotonicNanoseconds()
            guard isCorrect(input, output) else {
                throw CommandFailed("bench.\(procedure.name), call \(i): wrong result \(output) for \(input)")
            }
            if i >= warmup { samples[i - warmup] = end - start }
            if i % 1000 == 0 { progress.show("\(bench.transport.rawValue) \(procedure.name) \(i)/\(warmup + iterations)") }
        }
        return CallResult(procedure: procedure.name, transport: bench.transport, latency: LatencySummary(samples: samples))
    }
}

struct CallResult: Encodable {
    let procedure: String
    let transport: Transport
    let latency: LatencySummary
    /// Copies of the argument bytes per call, by construction (`Transport.argumentCopies`,
    /// counted the seed's way): LRPC 2 (client stub onto the A-stack, server stub off it);
    /// messages 5 (into the message, into the kernel, behind the relay's header, on to the
    /// server, out into values).
    let argCopies: Int
    /// The floor this transport is compared with: futex3 for LRPC, relay for messages.
    let floorPattern: String
    /// Median over the median of that floor (filled in by the report).
    var ratioToFloor: Double?

    init(procedure: String, transport: Transport, latency: LatencySummary) {
        self.procedure = procedure
        self.transport = transport
        self.latency = latency
        argCopies = transport.argumentCopies
        floorPattern = transport == .lrpc ? "futex3" : "relay"
    }

    enum CodingKeys: String, CodingKey {
        case procedure, transport, latency, argCopies = "arg_copies", ratioToFloor = "ratio_to_floor_median", floorPattern = "floor"
    }
}

extension Transport: Encodable {}

/// The null call under one placement and spin, with its floor.
struct PolicyResult: Encodable {
    let placement: String
    let spin: Int
    let null: LatencySummary
    let futex3: LatencySummary
    let ratio: Double

    init(placement: String, spin: Int, null: LatencySummary, futex3: LatencySummary) {
        self.placement = placement
        self.spin = spin
        self.null = null
        self.futex3 = futex3
        ratio = Double(null.medianNs) / Double(max(futex3.medianNs, 1))
    }
}

/// A one-line progress indicator on stderr, shown only on a terminal so that logs and
/// pipes get clean output. It is written between calls, never inside a timed one.
struct ProgressLine {
    private let enabled = isatty(2) != 0

    func show(_ text: String) {
        guard enabled else { return }
        var line = "\r\u{1B}[Kbench: " + text
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    func clear() {
        guard enabled else { return }
        _ = write(2, "\r\u{1B}[K", 4)
    }
}
