// nkctl bench: the LRPC paper's four calls (null, add, bigIn, bigInOut) made from one
// client thread and timed call by call, next to this machine's floor measured in the
// same run. A benchmark, not a test: it checks every result only so that a fast wrong
// answer can never be reported as a fast call.
import ArgumentParser
import Foundation
import Glibc
import Interfaces
import LRPC

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time LRPC calls to the bench service and compare them with the machine's floor.",
        discussion: """
            The kernel and its services inherit CPU affinity and NK_SPIN from `nkctl boot`, so \
            boot and bench must be started alike; the bench checks this and refuses a mismatch.
              scheduler:  nkctl boot --detach
                          nkctl bench
              same-cpu:   taskset -c 0 nkctl boot --detach
                          taskset -c 0 nkctl bench --placement same-cpu
              spinning:   NK_SPIN=200 nkctl boot --detach
                          NK_SPIN=200 nkctl bench
            """)
    @OptionGroup var kernel: KernelOptions
    @Option(help: "Calls per procedure before the timed ones (not recorded).") var warmup = 2000
    @Option(help: "Timed calls per procedure, and round trips per floor pattern.") var iterations = 20000
    @Option(help: "scheduler, or same-cpu (boot and bench both under `taskset -c N`).") var placement = Placement.scheduler
    @Flag(help: "Print one JSON document with every result.") var json = false

    func validate() throws {
        guard warmup >= 0 else { throw ValidationError("--warmup must be 0 or more") }
        // nkfloor's limit, so the floor always runs as many round trips as the calls.
        guard (1...100_000_000).contains(iterations) else { throw ValidationError("--iterations must be from 1 to 100000000") }
    }

    func run() throws {
        let runtime = try kernel.connect()
        let processes = try CallProcesses(runtime: runtime, interface: BenchInterface.name)
        let cpus = try verifyPlacement(placement, of: processes)
        let spin = try verifySpin(of: processes)
        let floor = try FloorRunner(iterations: iterations, placement: placement, cpus: cpus, spin: spin)
        let binding: ClientBinding
        do { binding = try runtime.importInterface(BenchInterface.name) } catch { throw CommandFailed("\(error)") }
        // A call that never returns is a bug to report, not a latency to wait for. The
        // deadline is read only after a call has stopped spinning and gone to sleep.
        binding.callTimeoutSeconds = 10

        let progress = ProgressLine()
        let calls = try CallTimer(binding: binding, warmup: warmup, iterations: iterations, progress: progress).measureAll()
        let floors = try floor.measureAll(progress: progress)
        progress.clear()

        let report = BenchReport(placement: placement, cpus: cpus, spin: spin, warmup: warmup,
                                 iterations: iterations, calls: calls, floors: floors)
        if json { try report.printJSON() } else { report.printTables() }
    }
}

/// Makes the calls of one procedure after another and times each one.
struct CallTimer {
    let binding: ClientBinding
    let warmup: Int
    let iterations: Int
    let progress: ProgressLine

    func measureAll() throws -> [CallResult] {
        let payload = (0..<BenchInterface.payloadSize).map { UInt8(truncatingIfNeeded: $0) }
        // Every call gets arguments of its own, so a stale reply cannot pass the check.
        func stamped(_ i: Int) -> [UInt8] {
            var bytes = payload
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: i).littleEndian) { bytes.replaceSubrange(0..<4, with: $0) }
            return bytes
        }
        return [
            try measure(BenchInterface.null, arguments: { _ in Empty() }, isCorrect: { _, _ in true }),
            try measure(BenchInterface.add, arguments: { AddArguments(Int32(truncatingIfNeeded: $0), 7) },
                        isCorrect: { $1 == $0.a &+ $0.b }),
            try measure(BenchInterface.bigIn, arguments: { .init(stamped($0)) }, isCorrect: { _, _ in true }),
            try measure(BenchInterface.bigInOut, arguments: { .init(stamped($0)) }, isCorrect: { $1 == $0 }),
        ]
    }

    /// `warmup` calls, then `iterations` timed ones. Only the call itself is inside the
    /// clock reads: building arguments, checking results and progress are outside.
    private func measure<A, R>(_ procedure: Procedure<A, R>, arguments: (Int) -> A,
                               isCorrect: (A, R) -> Bool) throws -> CallResult {
        var samples = [UInt64](repeating: 0, count: iterations)
        for i in 0..<(warmup + iterations) {
            let input = arguments(i)
            let start = monotonicNanoseconds()
            let output: R
            do { output = try binding.call(procedure, input) } catch {
                throw CommandFailed("bench.\(procedure.name), call \(i): \(error)")
            }
            let end = monotonicNanoseconds()
            guard isCorrect(input, output) else {
                throw CommandFailed("bench.\(procedure.name), call \(i): wrong result \(output) for \(input)")
            }
            if i >= warmup { samples[i - warmup] = end - start }
            if i % 1000 == 0 { progress.show("\(procedure.name) \(i)/\(warmup + iterations)") }
        }
        return CallResult(procedure: procedure.name, latency: LatencySummary(samples: samples))
    }
}

struct CallResult: Encodable {
    var procedure: String
    var latency: LatencySummary
    /// Copies of the argument bytes into memory the other domain can read, per call, by
    /// construction: one, the client stub's write into the A-stack, which the server maps
    /// too. No copy follows on the way: the kernel validates the trap without touching the
    /// A-stack, where a message-passing RPC copies into the kernel and out again. Not
    /// counted: the server stub's read of the arguments into its own values before use
    /// (the unmarshal copy the seed lecture counts as LRPC's second). Results return the
    /// same way, written once into the A-stack.
    var argCopies = 1
    /// Median over the futex3 floor's median.
    var ratioToFloor: Double?

    enum CodingKeys: String, CodingKey {
        case procedure, latency, argCopies = "arg_copies", ratioToFloor = "ratio_to_futex3_median"
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
