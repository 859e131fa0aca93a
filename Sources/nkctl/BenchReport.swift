// The output of `nkctl bench`: one JSON document, or two tables for people.
import Foundation

struct BenchReport: Encodable {
    var placement: Placement
    /// The CPU list nkfloor was given; the LRPC processes ran the same way.
    var cpus: String
    /// NK_SPIN of the client, kernel and server, and nkfloor's --spin.
    var spin: Int
    var warmup: Int
    var iterations: Int
    var calls: [CallResult]
    var floors: [FloorResult]

    init(placement: Placement, cpus: String, spin: Int, warmup: Int, iterations: Int,
         calls: [CallResult], floors: [FloorResult]) {
        self.placement = placement
        self.cpus = cpus
        self.spin = spin
        self.warmup = warmup
        self.iterations = iterations
        self.floors = floors
        let floorMedian = floors.first { $0.pattern == "futex3" }?.latency?.medianNs
        self.calls = calls.map { call in
            var call = call
            call.ratioToFloor = floorMedian.map { Double(call.latency.medianNs) / Double(max($0, 1)) }
            return call
        }
    }

    func printJSON() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys  // stable output, so runs diff cleanly
        print(String(decoding: try encoder.encode(self), as: UTF8.self))
    }

    func printTables() {
        print("\(iterations) timed calls per procedure after \(warmup) warm-up; placement \(placement.rawValue) (nkfloor --cpus \(cpus)); NK_SPIN \(spin)")
        var rows = [["PROCEDURE", "MEDIAN µs", "P99 µs", "MEAN µs", "CALLS/S", "ARG COPIES", "× FUTEX3 FLOOR"]]
        for call in calls {
            rows.append([call.procedure] + Self.cells(call.latency) +
                        [String(call.argCopies), call.ratioToFloor.map { String(format: "%.2f", $0) } ?? "-"])
        }
        printTable(rows)

        print("\nfloor (nkfloor, same placement and spin, \(iterations) round trips)")
        rows = [["PATTERN", "MEDIAN µs", "P99 µs", "MEAN µs", "CALLS/S"]]
        for floor in floors {
            guard let latency = floor.latency else { continue }
            rows.append([floor.pattern] + Self.cells(latency))
        }
        printTable(rows)
        for floor in floors {
            if let reason = floor.skipped { print("\(floor.pattern): skipped, \(reason)") }
        }
    }

    private static func cells(_ latency: LatencySummary) -> [String] {
        [String(format: "%.2f", latency.medianMicroseconds), String(format: "%.2f", latency.p99Microseconds),
         String(format: "%.2f", latency.meanMicroseconds), String(format: "%.0f", latency.callsPerSec)]
    }
}
