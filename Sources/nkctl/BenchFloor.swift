// The floor for `nkctl bench`: the same handoffs written directly in C (nkfloor), run in
// the same session, placement and spin as the calls. DESIGN.md: compare against a floor
// measured in the same run, never against a number from another day.
import CNanoKernel
import Foundation
import LRPC
import NanoKernel

/// One nkfloor pattern: its latency, or why it was not run.
struct FloorResult: Encodable {
    var pattern: String
    var cpus: String
    var latency: LatencySummary?
    var skipped: String?
}

struct FloorRunner {
    let executable: String
    let iterations: Int
    let progress: ProgressLine

    /// nkfloor is built alongside nkctl, like the services.
    init(iterations: Int, progress: ProgressLine) throws {
        executable = URL(fileURLWithPath: currentExecutablePath()).deletingLastPathComponent()
            .appendingPathComponent("nkfloor").path
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw CommandFailed("nkfloor not found at \(executable); `swift build` builds it next to nkctl")
        }
        self.iterations = iterations
        self.progress = progress
    }

    /// futex3 is LRPC's floor (client to kernel to server to client); relay is the
    /// message transport's (a middle process copying messages); spin2, on two CPUs, is
    /// the fastest handoff the machine has.
    func measureAll(placement: Placement, spin: Int) throws -> [FloorResult] {
        [
            FloorResult(pattern: "futex3", cpus: placement.floorCPUs, latency: try measure("futex3", placement: placement, spin: spin)),
            FloorResult(pattern: "relay", cpus: placement.floorCPUs, latency: try measure("relay", placement: placement, spin: spin)),
            FloorResult(pattern: "spin2", cpus: "0,1", latency: try measure("spin2", cpus: "0,1", spin: 0)),
        ]
    }

    func measure(_ pattern: String, placement: Placement, spin: Int) throws -> LatencySummary {
        try measure(pattern, cpus: placement.floorCPUs, spin: spin)
    }

    /// Run nkfloor for one pattern; its stderr goes straight to the user.
    private func measure(_ pattern: String, cpus: String, spin: Int) throws -> LatencySummary {
        progress.show("floor \(pattern) --cpus \(cpus) --spin \(spin)")
        // nkfloor inherits this thread's affinity; it does its own pinning.
        _ = nk_pin_thread(-1)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--pattern", pattern, "--json", "--iterations", String(iterations), "--cpus", cpus, "--spin", String(spin)]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let line = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandFailed("nkfloor --pattern \(pattern) --cpus \(cpus) failed with exit status \(process.terminationStatus)")
        }
        do {
            return try JSONDecoder().decode(LatencySummary.self, from: line)
        } catch {
            throw CommandFailed("nkfloor --pattern \(pattern) printed \(String(decoding: line, as: UTF8.self)): \(error)")
        }
    }
}
