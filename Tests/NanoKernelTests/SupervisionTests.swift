// SupervisionTests: a service that fails comes back under its back-off and budget; a
// client's call has a deadline and its next call rebinds; the operator can kill, stop,
// start and restart a service. Real kernels, real domains, real calls.
import Foundation
import Glibc
import Interfaces
import LRPC
import NanoKernel
import XCTest

final class SupervisionTests: KernelTestCase {
    override var bootsDefaultImage: Bool { false }

    private func boot(benchSupervision: String = "", deadlines: String = "") throws {
        let image = kernel.writeImage("""
            [image]
            name = "supervised"

            [operator]
            imports = ["name", "clock", "bench"]

            \(KernelHarness.coreServices(benchExtra: benchSupervision))
            \(deadlines)
            """)
        try kernel.boot(image: image)
    }

    private func nkctl(_ arguments: String...) throws -> (status: Int32, output: String) {
        try KernelHarness.run([KernelHarness.nkctl, arguments[0], "--socket", kernel.socketPath] + arguments.dropFirst(), timeout: 30)
    }

    private func waitForReady(_ service: String, notPid: Int32? = nil, seconds: Double = 10) -> Bool {
        KernelHarness.waitUntil(seconds: seconds) {
            (try? self.kernel.domain(service)).map { $0.state == "ready" && $0.pid != notPid } ?? false
        }
    }

    // MARK: deadlines

    func testATimedOutCallReturnsPromptlyAndItsSlotStaysTheServersUntilItReturns() throws {
        try boot()
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let bench = try runtime.importInterface(BenchInterface.name)
        let start = monotonicNanoseconds()
        XCTAssertThrowsError(try bench.call(BenchInterface.hold, 1_500, timeoutSeconds: 0.2)) { error in
            guard case .timedOut = error as? CallError else { return XCTFail("expected timedOut, got \(error)") }
        }
        let elapsed = Double(monotonicNanoseconds() - start) / 1e9
        XCTAssertGreaterThanOrEqual(elapsed, 0.2)
        XCTAssertLessThan(elapsed, 1.0, "a 200 ms deadline took \(elapsed) s")
        XCTAssertEqual(bench.slotsHeldAfterTimeout, 1)
        // More calls than the binding has slots: none may land on the held slot.
        let slots = bench.astacks!.geometry.slotCount
        for i in 0..<(slots * 3) { XCTAssertEqual(try bench.call(BenchInterface.add, AddArguments(Int32(i), 1)), Int32(i) + 1) }
        // Once the server returns, the slot is the client's again.
        usleep(1_500_000)
        for _ in 0..<(slots * 2) { _ = try bench.call(BenchInterface.null, Empty()) }
        XCTAssertEqual(bench.slotsHeldAfterTimeout, 0)
        let me = try kernel.status().domains.first { $0.kind == "operator" && $0.name.hasPrefix("test") }
        XCTAssertEqual(try kernel.status().domains.filter { $0.kind == "operator" }.map(\.refusals).reduce(0, +), 0,
                       "an honest client was refused: \(String(describing: me))")
        XCTAssertFalse(kernel.log.contains("refused call"), kernel.log)
    }

    func testAMessageBindingDropsTheLateReplyOfATimedOutCall() throws {
        try boot(deadlines: "[transports]\nbench = \"message\"")
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let bench = try runtime.importInterface(BenchInterface.name)
        XCTAssertEqual(bench.transport, .message)
        XCTAssertThrowsError(try bench.call(BenchInterface.hold, 600, timeoutSeconds: 0.1)) { error in
            guard case .timedOut = error as? CallError else { return XCTFail("expected timedOut, got \(error)") }
        }
        // The next call waits out the late reply (within its own deadline) and gets its own.
        XCTAssertEqual(try bench.call(BenchInterface.add, AddArguments(20, 22), timeoutSeconds: 5), 42)
        XCTAssertEqual(try bench.call(BenchInterface.add, AddArguments(1, 2), timeoutSeconds: 5), 3)
    }

    func testTheImageSetsTheDefaultDeadlineAndNkctlTakesAnOverride() throws {
        try boot(deadlines: "[deadlines]\nbench = 300")
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let bench = try runtime.importInterface(BenchInterface.name)
        XCTAssertEqual(bench.callTimeoutSeconds, 0.3, accuracy: 1e-9)
        XCTAssertThrowsError(try bench.call(BenchInterface.hold, 1_000)) { error in
            guard case .timedOut = error as? CallError else { return XCTFail("expected timedOut, got \(error)") }
        }
        let timedOut = try nkctl("call", "--timeout", "0.2", "bench.hold", "2000")
        XCTAssertEqual(timedOut.status, 1, timedOut.output)
        XCTAssertTrue(timedOut.output.contains("timed out"), timedOut.output)
        XCTAssertFalse(timedOut.output.contains("importInterface("), timedOut.output)
        XCTAssertEqual(try nkctl("call", "--timeout", "5", "bench.hold", "500").status, 0)
        for bad in ["0", "-1"] {
            let usage = try nkctl("call", "--timeout=\(bad)", "bench.null")
            XCTAssertEqual(usage.status, 2, "--timeout \(bad): \(usage.output)")
            XCTAssertTrue(usage.output.contains("--timeout must be a positive number"), usage.output)
        }
    }

    // MARK: death notices and rebinding

    func testTheNextCallAfterAServerDiesRebindsToTheRestartedServer() throws {
        try boot()
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let notices = Notices()
        runtime.onRevoked = { bo, reason in notices.add(bo, reason) }
        let clock = ServiceConnection(runtime: runtime, interface: ClockInterface.name)
        XCTAssertGreaterThan(try clock.call(ClockInterface.now, Empty()).seconds, 0)
        let first = try clock.binding().bindingObject
        let victim = try kernel.domain("clock")
        XCTAssertEqual(try nkctl("kill", "clock").status, 0)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) { notices.count > 0 }, "no revocation notice")
        XCTAssertEqual(notices.first?.0, first)
        XCTAssertTrue(notices.first?.1.contains("clock died") ?? false, "\(String(describing: notices.first))")
        // Transparent: the call waits (within its deadline) for the restarted clock.
        XCTAssertGreaterThan(try clock.call(ClockInterface.now, Empty(), timeoutSeconds: 10).seconds, 0)
        XCTAssertEqual(clock.rebinds, 1)
        XCTAssertNotEqual(try clock.binding().bindingObject, first)
        XCTAssertNotEqual(try kernel.domain("clock").pid, victim.pid)
    }

    func testAFailedServiceIsRefusedAtOnceWithItsReasonAndRestartResetsIt() throws {
        try boot(benchSupervision: "[service.supervision]\nbudget = 1\nwindow_s = 60\nbackoff_ms = 10")
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let bench = ServiceConnection(runtime: runtime, interface: BenchInterface.name)
        XCTAssertEqual(try bench.call(BenchInterface.add, AddArguments(1, 2)), 3)
        let first = try kernel.domain("bench")
        XCTAssertEqual(try nkctl("kill", "bench").status, 0)
        XCTAssertTrue(waitForReady("bench", notPid: first.pid), kernel.log)
        XCTAssertEqual(try kernel.domain("bench").restartsInWindow, 1)
        XCTAssertEqual(try nkctl("kill", "bench").status, 0)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) { (try? self.kernel.domain("bench").state) == "failed" }, kernel.log)
        let report = try kernel.domain("bench")
        XCTAssertTrue(report.lastEvent.hasPrefix("1 restarts in 60 s; last: killed by signal 9"), report.lastEvent)
        let start = monotonicNanoseconds()
        XCTAssertThrowsError(try bench.call(BenchInterface.null, Empty(), timeoutSeconds: 10)) { error in
            guard case .unavailable(let text) = error as? CallError else { return XCTFail("expected unavailable, got \(error)") }
            XCTAssertTrue(text.contains("service 'bench' failed: 1 restarts in 60 s"), text)
        }
        XCTAssertLessThan(Double(monotonicNanoseconds() - start) / 1e9, 2, "a failed service must be refused at once")
        let restarted = try nkctl("restart", "bench")
        XCTAssertEqual(restarted.status, 0, restarted.output)
        XCTAssertTrue(waitForReady("bench"), kernel.log)
        XCTAssertEqual(try bench.call(BenchInterface.add, AddArguments(2, 2), timeoutSeconds: 10), 4)
        XCTAssertEqual(try kernel.domain("bench").restartsInWindow, 0)
    }

    func testAnImportWaitsForAServiceInBackOffUpToItsDeadline() throws {
        try boot(benchSupervision: "[service.supervision]\nbackoff_ms = 1500")
        let runtime = try kernel.connect()
        defer { runtime.close() }
        XCTAssertEqual(try nkctl("kill", "bench").status, 0)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) { (try? self.kernel.domain("bench").state) == "backing-off" })
        XCTAssertThrowsError(try runtime.importInterface(BenchInterface.name, timeoutSeconds: 0.2)) { error in
            XCTAssertTrue("\(error)".contains("service 'bench' is backing off"), "\(error)")
        }
        let bench = try runtime.importInterface(BenchInterface.name, timeoutSeconds: 10)
        XCTAssertEqual(try bench.call(BenchInterface.add, AddArguments(5, 5)), 10)
    }

    // MARK: the operator's control

    func testStopIsACleanRequestAndStartBringsItBack() throws {
        try boot()
        let clock = try kernel.domain("clock")
        let stopped = try nkctl("stop", "clock")
        XCTAssertEqual(stopped.status, 0, stopped.output)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) { (try? self.kernel.domain("clock").state) == "stopped" }, kernel.log)
        XCTAssertTrue(KernelHarness.hasExited(clock.pid))
        XCTAssertFalse(kernel.log.contains("did not stop within the grace period"), "needed SIGKILL: \(kernel.log)")
        let runtime = try kernel.connect()
        defer { runtime.close() }
        XCTAssertThrowsError(try runtime.importInterface(ClockInterface.name, timeoutSeconds: 0.2)) { error in
            XCTAssertTrue("\(error)".contains("stopped by the operator"), "\(error)")
        }
        XCTAssertEqual(try nkctl("start", "clock").status, 0)
        XCTAssertTrue(waitForReady("clock"), kernel.log)
        XCTAssertEqual(try kernel.domain("clock").lastExit, "exited with status 0")
        let again = try nkctl("start", "clock")
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.output.contains("already running"), again.output)
    }

    func testKillOfAnUnknownServiceListsTheServices() throws {
        try boot()
        let result = try nkctl("kill", "clokc")
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.output.contains("no service named 'clokc'; services: name, clock, bench"), result.output)
        let badSignal = try nkctl("kill", "clock", "--signal", "FOO")
        XCTAssertEqual(badSignal.status, 1)
        XCTAssertTrue(badSignal.output.contains("unknown signal 'FOO'"), badSignal.output)
    }

    func testSigtermAndSigabrtFromKillEndAServiceAlthoughItIsItsNamespacesInit() throws {
        try boot()
        for signal in ["TERM", "ABRT"] {
            let pid = try kernel.domain("bench").pid
            let sent = try nkctl("kill", "bench", "--signal", signal)
            XCTAssertEqual(sent.status, 0, sent.output)
            XCTAssertTrue(waitForReady("bench", notPid: pid), "SIG\(signal) did nothing: \(kernel.log)")
            let number = signal == "TERM" ? SIGTERM : SIGABRT
            XCTAssertEqual(try kernel.domain("bench").lastExit, "exited on signal \(number) (status \(128 + number))")
        }
    }

    /// SEGV, ILL, BUS, FPE and PIPE sent by the operator were dropped by the namespace's
    /// init; now each ends the service as the operator expects, and its policy restarts it.
    func testFaultSignalsFromKillEndAServiceAlthoughItIsItsNamespacesInit() throws {
        try boot(benchSupervision: "[service.supervision]\nbudget = 20")
        for (signal, number) in [("SEGV", SIGSEGV), ("ILL", SIGILL), ("BUS", SIGBUS), ("FPE", SIGFPE), ("PIPE", SIGPIPE)] {
            let pid = try kernel.domain("bench").pid
            let sent = try nkctl("kill", "bench", "--signal", signal)
            XCTAssertEqual(sent.status, 0, sent.output)
            XCTAssertTrue(waitForReady("bench", notPid: pid), "SIG\(signal) did nothing: \(kernel.log)")
            XCTAssertEqual(try kernel.domain("bench").lastExit, "exited on signal \(number) (status \(128 + number))")
        }
    }

    /// A signal the service has no handler for would be dropped (it is its namespace's
    /// init): the kernel says so and sends nothing, instead of reporting it sent.
    func testASignalTheServiceWouldDropIsRefusedWithTheReason() throws {
        try boot()
        let bench = try kernel.domain("bench")
        let refused = try nkctl("kill", "bench", "--signal", "40")
        XCTAssertEqual(refused.status, 1, refused.output)
        XCTAssertTrue(refused.output.contains("not sent: signal 40 would have no effect: bench is the init of its pid namespace"),
                      refused.output)
        let after = try kernel.domain("bench")
        XCTAssertEqual(after.pid, bench.pid)
        XCTAssertEqual(after.state, "ready")
    }

    /// While a service backs off before its restart, its names wait for it: unlisted, not
    /// found, and nobody else may take them; its next domain registers them again.
    func testARestartingServicesNamesWaitForIt() throws {
        try boot(benchSupervision: "[service.supervision]\nbackoff_ms = 3000")
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let names = try runtime.importInterface(NameInterface.name)
        let old = try kernel.domain("bench")
        XCTAssertEqual(try nkctl("kill", "bench").status, 0)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) { (try? self.kernel.domain("bench"))?.state.hasPrefix("backing-off") == true },
                      kernel.log)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 2) {
            (try? names.call(NameInterface.lookup, InterfaceName("bench"))) == Registration(found: false, domain: 0)
        }, "a dead domain's name is still found")
        XCTAssertFalse(try names.call(NameInterface.list, Empty()).names.contains("bench"))
        XCTAssertThrowsError(try names.call(NameInterface.register, InterfaceName("bench"))) {
            guard case .procedureFailed(let text) = $0 as? CallError else { return XCTFail("\($0)") }
            XCTAssertTrue(text.contains("it belongs to bench, which is restarting"), text)
        }
        XCTAssertTrue(waitForReady("bench", notPid: old.pid), kernel.log)
        let fresh = try kernel.domain("bench")
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) {
            (try? names.call(NameInterface.lookup, InterfaceName("bench"))) == Registration(found: true, domain: fresh.id)
        }, kernel.log)
    }

    /// The grace before SIGKILL is the image's `stop_grace_ms`, not a constant.
    func testTheStopGraceComesFromTheImage() throws {
        try boot(benchSupervision: "[service.supervision]\nstop_grace_ms = 300")
        let stop = try nkctl("stop", "bench")
        XCTAssertEqual(stop.status, 0, stop.output)
        XCTAssertTrue(stop.output.contains("SIGKILL after 300 ms"), stop.output)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) { (try? self.kernel.domain("bench"))?.state == "stopped" }, kernel.log)
        let clockStop = try nkctl("stop", "clock")
        XCTAssertTrue(clockStop.output.contains("SIGKILL after 2000 ms"), clockStop.output)
    }

    /// The core services plus the test-only faulty service, which the operator imports.
    private func faultyImage(_ name: String, supervision: String = "") -> String {
        kernel.writeImage("""
            [image]
            name = "\(name)"

            [operator]
            imports = ["faulty"]

            \(KernelHarness.coreServices())

            [[service]]
            name = "faulty"
            executable = "nk-faulty"
            provides = ["faulty"]
            imports = ["name"]
            [service.supervision]
            \(supervision)
            """)
    }

    /// A real fault (a bad pointer: the CPU's SIGSEGV) still ends the service by the signal.
    func testARealCrashIsStillReportedWithItsSignal() throws {
        try kernel.boot(image: faultyImage("crash"))
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let faulty = ServiceConnection(runtime: runtime, interface: FaultyInterface.name)
        for (procedure, number) in [(FaultyInterface.crashByBadPointer, SIGSEGV), (FaultyInterface.crash, SIGILL)] {
            let pid = try kernel.domain("faulty").pid
            XCTAssertThrowsError(try faulty.call(procedure, Empty(), timeoutSeconds: 8)) { error in
                guard case .serverDied = error as? CallError else { return XCTFail("expected serverDied, got \(error)") }
            }
            XCTAssertTrue(waitForReady("faulty", notPid: pid), kernel.log)
            XCTAssertEqual(try kernel.domain("faulty").lastExit, "killed by signal \(number)")
        }
    }

    func testAStoppedAndContinuedServiceSurvivesWithACallInFlight() throws {
        try boot()
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let bench = try runtime.importInterface(BenchInterface.name)
        let pid = try kernel.domain("bench").pid
        let done = DispatchSemaphore(value: 0)
        let outcome = Notices()
        Thread {
            do { _ = try bench.call(BenchInterface.hold, 800, timeoutSeconds: 10) } catch { outcome.fail("\(error)") }
            done.signal()
        }.start()
        usleep(200_000)
        XCTAssertEqual(try nkctl("kill", "bench", "--signal", "STOP").status, 0)
        usleep(300_000)
        XCTAssertEqual(try nkctl("kill", "bench", "--signal", "CONT").status, 0)
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(outcome.failures, [])
        XCTAssertEqual(try kernel.domain("bench").pid, pid)
        XCTAssertEqual(try kernel.domain("bench").state, "ready", kernel.log)
        XCTAssertEqual(try bench.call(BenchInterface.add, AddArguments(1, 1)), 2)
    }

    func testRepeatedRestartsKeepOneLevelOfStory() throws {
        try boot()
        for _ in 0..<3 {
            let pid = try kernel.domain("clock").pid
            XCTAssertEqual(try nkctl("kill", "clock").status, 0)
            XCTAssertTrue(waitForReady("clock", notPid: pid), kernel.log)
        }
        let clock = try kernel.domain("clock")
        XCTAssertEqual(clock.lastExit, "killed by signal 9")
        XCTAssertEqual(clock.restarts, 3)
        XCTAssertEqual(clock.restartsInWindow, 3)
        XCTAssertGreaterThan(clock.uptimeSeconds, 0)
        let table = try nkctl("status")
        XCTAssertFalse(table.output.contains("restarted after"), table.output)
    }

    func testAServerPastItsHangLimitIsRestartedAndItsCallerTold() throws {
        try kernel.boot(image: faultyImage("hang", supervision: "hang_limit_ms = 300"))
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let faulty = ServiceConnection(runtime: runtime, interface: FaultyInterface.name)
        let pid = try kernel.domain("faulty").pid
        let start = monotonicNanoseconds()
        XCTAssertThrowsError(try faulty.call(FaultyInterface.hold, 10_000, timeoutSeconds: 8)) { error in
            guard case .serverDied = error as? CallError else { return XCTFail("expected serverDied, got \(error)") }
        }
        let elapsed = Double(monotonicNanoseconds() - start) / 1e9
        XCTAssertLessThan(elapsed, 3, "the hang limit is 300 ms; the call ended after \(elapsed) s")
        XCTAssertTrue(waitForReady("faulty", notPid: pid), kernel.log)
        XCTAssertTrue(try kernel.domain("faulty").lastExit.hasPrefix("hung: a call ran past its hang limit of 300 ms"))
        XCTAssertNoThrow(try faulty.call(FaultyInterface.null, Empty(), timeoutSeconds: 5))
    }

    func testATuneDuringAServicesStartDoesNotKillIt() throws {
        try boot()
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let current = try JSONDecoder().decode([String: String].self, from: Data(runtime.admin("tune").utf8))
        let policy = "placement=\(current["placement"] ?? "scheduler"),spin=\(current["spin"] ?? "0")"
        for _ in 0..<5 {
            let pid = try kernel.domain("bench").pid
            _ = try runtime.admin("restart", argument: "bench")
            // Tune while the replacement is starting: before its welcome it must get nothing.
            for _ in 0..<20 { _ = try runtime.admin("tune", argument: policy) }
            XCTAssertTrue(waitForReady("bench", notPid: pid), kernel.log)
        }
        XCTAssertEqual(try kernel.domain("bench").restarts, 5, "a tune killed a starting bench: \(kernel.log)")
    }

    func testAStoppedServiceDiesWithTheKernel() throws {
        try boot()
        let pids = try kernel.status().domains.filter { $0.kind == "service" }.map(\.pid)
        XCTAssertEqual(try nkctl("kill", "bench", "--signal", "STOP").status, 0)
        guard let kernelPid = kernel.kernelProcess() else { return XCTFail("no kernel pid") }
        kill(kernelPid, SIGKILL)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) { (pids + [kernelPid]).allSatisfy(KernelHarness.hasExited) },
                      "left behind: \(pids.filter { !KernelHarness.hasExited($0) })")
    }
}

/// Collected from other threads in a test.
final class Notices: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(BindingObject, String)] = []
    private var failed: [String] = []
    func add(_ bo: BindingObject, _ reason: String) { lock.lock(); items.append((bo, reason)); lock.unlock() }
    func fail(_ text: String) { lock.lock(); failed.append(text); lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return items.count }
    var first: (BindingObject, String)? { lock.lock(); defer { lock.unlock() }; return items.first }
    var failures: [String] { lock.lock(); defer { lock.unlock() }; return failed }
}
