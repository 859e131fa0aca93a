// KernelFuzzTestCase: the hostile image (name, clock, bench, hostile), a seed and a time
// budget per surface, and the oracle every fuzz batch ends with: the kernel lives and
// answers status, honest calls to clock and bench return correct results, no domain but
// the fuzzed one was cut off or restarted, and (at the end) the kernel's descriptors
// and threads are back to what they were, its memory bounded.
// NK_FUZZ_SECONDS (per surface) and NK_FUZZ_SEED override the suite's short fixed runs
// (scripts/fuzz).
import Foundation
import Glibc
import KernelFuzz
import Interfaces
import LRPC
import NanoAdmin
import NanoKernel
import XCTest

class KernelFuzzTestCase: HostileKernelTestCase {
    var baseline: Usage!
    var hostileBefore: DomainReport!
    /// The last frames sent, shown when the oracle fails (with the seed, enough to replay).
    var recent: [String] = []

    static var budgetSeconds: Double {
        ProcessInfo.processInfo.environment["NK_FUZZ_SECONDS"].flatMap(Double.init) ?? 4
    }

    /// The run's seed: NK_FUZZ_SEED, or the surface's fixed one.
    func seed(_ fixed: UInt64) -> UInt64 {
        let seed = ProcessInfo.processInfo.environment["NK_FUZZ_SEED"].flatMap(UInt64.init) ?? fixed
        print("fuzz \(name): seed \(seed), \(Self.budgetSeconds) s")
        return seed
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        hostileBefore = try kernel.domain("hostile")
        baseline = Usage(kernelPid)
    }

    func remember(_ line: String) {
        recent.append(line)
        if recent.count > 16 { recent.removeFirst() }
    }

    /// The oracle after a batch. `hostileMayGo`: the hostile service is the fuzzed domain.
    func assertKernelHealthy(seed: UInt64, hostileMayGo: Bool = false, file: StaticString = #filePath, line: UInt = #line) {
        let context = "seed \(seed); last frames:\n" + recent.joined(separator: "\n")
        guard kill(kernelPid, 0) == 0 else {
            XCTFail("the kernel died; \(context)\n\(kernel.log.suffix(4000))", file: file, line: line)
            return
        }
        assertEveryoneElseIsFine(file: file, line: line)
        if !hostileMayGo, let now = try? kernel.domain("hostile") {
            XCTAssertEqual(now.pid, hostileBefore.pid, "hostile was replaced: \(now.lastEvent); \(context)", file: file, line: line)
            XCTAssertEqual(now.state, "ready", "hostile: \(now.lastEvent); \(context)", file: file, line: line)
        }
        let usage = Usage(kernelPid)
        XCTAssertLessThan(usage.rssKiB, baseline.rssKiB + 128 * 1024, "kernel memory grew: \(usage) from \(baseline!); \(context)",
                          file: file, line: line)
    }

    /// Once every fuzzing connection is gone, the kernel holds what it held before.
    func assertResourcesBackToBaseline(seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        var usage = Usage(kernelPid)
        let back = KernelHarness.waitUntil(seconds: 15) {
            usage = Usage(self.kernelPid)
            return usage.fds <= self.baseline.fds && usage.threads <= self.baseline.threads
        }
        XCTAssertTrue(back, "kernel resources after fuzzing: \(usage); before: \(baseline!); seed \(seed)", file: file, line: line)
        // Idle, the kernel sleeps: a thread left spinning (an unbounded policy, a loop
        // on a word a domain wrote) shows as CPU time with nothing to do.
        let before = Self.cpuTicks(kernelPid)
        usleep(1_000_000)
        let busy = Self.cpuTicks(kernelPid) - before
        XCTAssertLessThan(busy, 30, "the idle kernel used \(busy) of 100 CPU ticks in a second; seed \(seed)", file: file, line: line)
    }

    /// User + system CPU time of a process, in clock ticks (1/100 s).
    static func cpuTicks(_ pid: Int32) -> Int {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // Fields after the command (which may hold spaces) start after its closing ')'.
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        guard fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12]) else { return 0 }
        return user + system
    }
}
