// The output of `nkctl bench`: one JSON document, or tables for people.
import Foundation
import LRPC

struct BenchReport: Encodable {
    var placement: String
    var spin: Int
    var warmup: Int
    var iterations: Int
    var calls: [CallResult]
    var floors: [FloorResult]
    var policies: [PolicyResult]
    var scaling: ScalingResult?

    init(placement: Placement, spin: Int, warmup: Int, iterations: Int, calls: [CallResult],
         floors: [FloorResult], policies: [PolicyResult], scaling: ScalingResult?) {
        self.placement = placement.rawValue
        self.spin = spin
        self.warmup = warmup
        self.iterations = iterations
        self.floors = floors
        self.policies = policies
        self.scaling = scaling
        self.calls = calls.map { call in
            var call = call
            let floor = floors.first { $0.pattern == call.floorPattern }?.latency?.medianNs
            call.ratioToFloor = floor.map { Double(call.latency.medianNs) / Double(max($0, 1)) }
            return call
        }
    }

    func printJSON() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys  // stable output, so runs diff cleanly
        print(String(decoding: try encoder.encode(self), as: UTF8.self))
    }

    func printTables() {
        print("\(iterations) timed calls per procedure after \(warmup) warm-up; placement \(placement), spin \(spin)")
        var rows = [["PROCEDURE", "TRANSPORT", "MEDIAN µs", "P99 µs", "MEAN µs", "CALLS/S (1/MEAN)", "ARG COPIES", "× FLOOR", "FLOOR"]]
        for call in calls {
            rows.append([call.procedure, call.transport.rawValue] + Self.cells(call.latency) +
                        [String(call.argCopies), call.ratioToFloor.map { String(format: "%.2f", $0) } ?? "-", call.floorPattern])
        }
        printTable(rows)
        print("× FLOOR is median over the floor's median. CALLS/S is one thread's calls back to back (1/mean),",
              "so a few slow calls can lower it below a procedure with a higher median.",
              "ARG COPIES counts copies of the argument bytes the seed's way (Transport.argumentCopies).", separator: "\n")
        printSpeedup()

        print("\nfloors (nkfloor, the same run)")
        rows = [["PATTERN", "CPUS", "MEDIAN µs", "P99 µs", "MEAN µs", "CALLS/S (1/MEAN)"]]
        for floor in floors {
            guard let latency = floor.latency else { continue }
            rows.append([floor.pattern, floor.cpus] + Self.cells(latency))
        }
        printTable(rows)

        if !policies.isEmpty { printPolicies() }
        if let scaling {
            print(String(format: "\nscaling (%@, %.0f s each): one client %.0f calls/s, two clients on two CPUs %.0f calls/s: %.2fx",
                         scaling.placement, scaling.seconds, scaling.oneClientCallsPerSec, scaling.twoClientsCallsPerSec, scaling.ratio))
        }
    }

    /// Message RPC over LRPC, per procedure: the seeds' headline.
    private func printSpeedup() {
        for stub in calls where stub.procedure == CallTimer.stubNull {
            guard let sync = calls.first(where: { $0.procedure == CallTimer.pairedNull && $0.transport == stub.transport }) else { continue }
            print(String(format: "null (%@): the rebinding stub takes %.3fx the time of the binding's call made alternately (%+.2f µs)",
                         stub.transport.rawValue, Double(stub.latency.medianNs) / Double(max(sync.latency.medianNs, 1)),
                         (Double(stub.latency.medianNs) - Double(sync.latency.medianNs)) / 1000))
        }
        if let async = calls.first(where: { $0.procedure == "null (async)" }),
           let sync = calls.first(where: { $0.procedure == "null" && $0.transport == .lrpc }) {
            print(String(format: "null: the async call takes %.2fx the time of the synchronous one (+%.1f µs)",
                         Double(async.latency.medianNs) / Double(max(sync.latency.medianNs, 1)),
                         (Double(async.latency.medianNs) - Double(sync.latency.medianNs)) / 1000))
        }
        for lrpc in calls where lrpc.transport == .lrpc {
            guard let message = calls.first(where: { $0.transport == .message && $0.procedure == lrpc.procedure }) else { continue }
            print(String(format: "%@: message RPC takes %.2fx the time of LRPC", lrpc.procedure,
                         Double(message.latency.medianNs) / Double(max(lrpc.latency.medianNs, 1))))
        }
    }

    private func printPolicies() {
        print("\nnull call under each policy (LRPC; futex3 floor with the same placement and spin)")
        var rows = [["PLACEMENT", "SPIN", "NULL MEDIAN µs", "NULL P99 µs", "FUTEX3 MEDIAN µs", "× FLOOR"]]
        let fastest = policies.min { $0.null.medianNs < $1.null.medianNs }
        for p in policies {
            rows.append([p.placement, String(p.spin), String(format: "%.2f", p.null.medianMicroseconds),
                         String(format: "%.2f", p.null.p99Microseconds), String(format: "%.2f", p.futex3.medianMicroseconds),
                         String(format: "%.2f", p.ratio) + (p.placement == fastest?.placement && p.spin == fastest?.spin ? "  fastest" : "")])
        }
        printTable(rows)
        print("default: \(Tuning.describe(Tuning.defaultPlacement, Tuning.defaultSpin))")
    }

    private static func cells(_ latency: LatencySummary) -> [String] {
        [String(format: "%.2f", latency.medianMicroseconds), String(format: "%.2f", latency.p99Microseconds),
         String(format: "%.2f", latency.meanMicroseconds), String(format: "%.0f", latency.callsPerSec)]
    }
}
