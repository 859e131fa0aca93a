// The floor for `nkctl bench`: the same handoffs written directly in C (nkfloor), run in
// the same session, placement and spin as the LRPC calls. DESIGN.md: compare against a
// floor measured in the same run, never against a number from another day.
import Foundation
import NanoKernel

/// One nkfloor pattern: its latency, or why it was not run.
struct FloorResult: Encodable {
    var pattern: String
    var latency: LatencySummary?
    var skipped: String?
}

struct FloorRunner {
    let executable: String
    let iterations: Int
    let placement: Placement
    /// nkfloor's --cpus for that placement: client, kernel (or middle), server.
    let cpus: String
    let spin: Int

    /// nkfloor is built alongside nkctl, like the services.
    init(iterations: Int, placement: Placement, cpus: String, spin: Int) throws {
        executable = URL(fileURLWithPath: currentExecutablePath()).deletingLastPathComponent()
            .appendingPathComponent("nkfloor").path
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw CommandFailed("nkfloor not found at \(executable); `swift build` builds it next to nkctl")
        }
        self.iterations = iterations
        self.placement = placement
        self.cpus = cpus
        self.spin = spin
    }

    /// futex3 is the reference (client to kernel to server to client, like an LRPC call);
    /// spin2 and relay bracket it: the fastest handoff, and a message-passing RPC.
    func measureAll(progress: ProgressLine) throws -> [FloorResult] {
        try ["futex3", "spin2", "relay"].map { pattern in
            progress.show("floor \(pattern)")
            if let reason = skipReason(pattern) { return FloorResult(pattern: pattern, skipped: reason) }
            return FloorResult(pattern: pattern, latency: try measure(pattern))
        }
    }

    private func skipReason(_ pattern: String) -> String? {
        guard pattern == "spin2" && placement == .sameCPU else { return nil }
        return "needs two CPUs: two spinners on one CPU hand off only when the scheduler preempts one"
    }

    /// Run nkfloor for one pattern; its stderr goes straight to the user.
    private func measure(_ pattern: String) throws -> LatencySummary {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--pattern", pattern, "--json", "--iterations", String(iterations),
                             "--cpus", cpus, "--spin", String(spin)]
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
