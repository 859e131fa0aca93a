// The generated client stubs rebind by themselves: against a real booted kernel, the
// bench server is killed and restarted and the next call through `BenchClient` is
// answered by the new server after one rebind; a call in flight when it died gets
// serverDied (not repeated); a service failed for good is `unavailable` at once; a
// rebinding keeps the call's deadline; concurrent callers rebind once. Sync and async.
import Foundation
import Glibc
import Interfaces
import LRPC
import NanoAdmin
import XCTest

final class RebindingClientTests: KernelTestCase {
    override var bootsDefaultImage: Bool { false }

    private func boot(benchSupervision: String = "") throws {
        let image = kernel.writeImage("""
            [image]
            name = "rebinding"

            [operator]
            imports = ["name", "clock", "bench"]

            \(KernelHarness.coreServices(benchExtra: benchSupervision))
            """)
        try kernel.boot(image: image)
    }

    private func nkctl(_ arguments: String...) throws -> (status: Int32, output: String) {
        try KernelHarness.run([KernelHarness.nkctl, arguments[0], "--socket", kernel.socketPath] + arguments.dropFirst(), timeout: 30)
    }

    /// Kill bench and wait (bounded) until this runtime has the kernel's death notice for
    /// the binding, so the next call finds it revoked rather than in flight.
    private func killBench(noticedBy notices: Notices) throws {
        let before = notices.count
        let killed = try nkctl("kill", "bench")
        XCTAssertEqual(killed.status, 0, killed.output)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) { notices.count > before }, "no revocation notice\n\(kernel.log)")
    }

    private func waitForReady(_ service: String, notPid: Int32? = nil, seconds: Double = 10) -> Bool {
        KernelHarness.waitUntil(seconds: seconds) {
            (try? self.kernel.domain(service)).map { $0.state == "ready" && $0.pid != notPid } ?? false
        }
    }

    private func benchSlotsInUse(_ runtime: DomainRuntime) -> Int {
        guard let text = try? runtime.admin("bindings"),
              let reports = try? JSONDecoder().decode([BindingReport].self, from: Data(text.utf8)) else { return 0 }
        return reports.filter { $0.server == "bench" }.map(\.astacksInUse).reduce(0, +)
    }

    /// The kernel's open descriptors and threads.
    private func kernelResources() throws -> (fds: Int, threads: Int) {
        let pid = try XCTUnwrap(kernel.kernelProcess())
        return (try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count,
                try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count)
    }

    // MARK: a restart between calls

    func testTheNextCallAfterARestartIsAnsweredByTheNewServerWithOneRebind() throws {
        try boot()
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let notices = Notices()
        runtime.onRevoked = { bo, reason in notices.add(bo, reason) }
        let bench = BenchClient(connecting: runtime, callTimeoutSeconds: 10)
        XCTAssertEqual(try bench.add(a: 40, b: 2), 42, "the first call binds")
        let first = try bench.connection.binding().bindingObject
        let victim = try kernel.domain("bench")
        let baseline = try kernelResources()

        try killBench(noticedBy: notices)
        XCTAssertEqual(notices.first?.0, first)
        // No wait for the restart: the call's rebinding waits for it, within the deadline.
        XCTAssertEqual(try bench.add(a: 1, b: 2), 3)
        XCTAssertEqual(bench.connection.rebinds, 1)
        XCTAssertNotEqual(try bench.connection.binding().bindingObject, first)
        XCTAssertNotEqual(try kernel.domain("bench").pid, victim.pid, "answered by the restarted server")
        for i in 0..<100 { XCTAssertEqual(try bench.add(a: Int32(i), b: 1), Int32(i) + 1) }
        XCTAssertEqual(bench.connection.rebinds, 1, "later calls use the new binding")

        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) {
            guard let now = try? self.kernelResources() else { return false }
            return now.fds <= baseline.fds && now.threads <= baseline.threads
        }, "kernel descriptors and threads: \(baseline) before the restart, \(String(describing: try? kernelResources())) after")
    }

    func testAsyncCallsRebindAfterARestartToo() async throws {
        try boot()
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let notices = Notices()
        runtime.onRevoked = { bo, reason in notices.add(bo, reason) }
        let bench = try BenchClient(importing: runtime, callTimeoutSeconds: 10)
        let sum = try await bench.add(a: 2, b: 2)
        XCTAssertEqual(sum, 4)
        try killBench(noticedBy: notices)
        let after = try await bench.add(a: 3, b: 4)
        XCTAssertEqual(after, 7)
        XCTAssertEqual(bench.connection.rebinds, 1)
        // A declared error still arrives as its own type through the rebinding stub.
        do {
            try await bench.hold(20_000)
            XCTFail("hold past its limit succeeded")
        } catch BenchError.holdTooLong {
        }
    }

    func testTheSingleBindingClientDoesNotRebind() throws {
        try boot()
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let notices = Notices()
        runtime.onRevoked = { bo, reason in notices.add(bo, reason) }
        let bench = try BenchBindingClient(importing: runtime)
        bench.binding.callTimeoutSeconds = 10
        XCTAssertEqual(try bench.add(a: 1, b: 1), 2)
        try killBench(noticedBy: notices)
        XCTAssertThrowsError(try bench.add(a: 1, b: 1)) { error in
            XCTAssertEqual(error as? CallError, .refused(.staleBindingObject))
        }
    }

    func testConcurrentCallersAfterARestartRebindOnce() throws {
        try boot()
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let notices = Notices()
        runtime.onRevoked = { bo, reason in notices.add(bo, reason) }
        let bench = try BenchClient(importing: runtime, callTimeoutSeconds: 10)
        try killBench(noticedBy: notices)
        let failures = Notices()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            do {
                let sum = try bench.add(a: Int32(i), b: 100)
                if sum != Int32(i) + 100 { failures.fail("caller \(i): \(sum)") }
            } catch {
                failures.fail("caller \(i): \(error)")
            }
        }
        XCTAssertEqual(failures.failures, [])
        XCTAssertEqual(bench.connection.rebinds, 1, "eight callers found the binding revoked; one import served them all")
    }

    // MARK: a call in flight when the server died

    func testACallInFlightWhenTheServerDiesGetsServerDiedAndIsNotRepeated() throws {
        try boot()
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let bench = try BenchClient(importing: runtime, callTimeoutSeconds: 10)
        let outcome = Outcome()
        let start = monotonicNanoseconds()
        let caller = Thread { outcome.set(Result { try bench.hold(5_000) }) }
        caller.start()
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) { self.benchSlotsInUse(runtime) >= 1 }, "the hold never reached bench")
        let victim = try kernel.domain("bench")
        XCTAssertEqual(try nkctl("kill", "bench").status, 0)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) { outcome.result != nil }, "the call in flight never ended")
        guard case .failure(let error)? = outcome.result, case .serverDied = error as? CallError else {
            return XCTFail("expected serverDied, got \(String(describing: outcome.result))")
        }
        XCTAssertLessThan(Double(monotonicNanoseconds() - start) / 1e9, 4.5, "ended by the death, not by the 5 s hold")
        XCTAssertEqual(bench.connection.rebinds, 0, "the call was not repeated on a new binding")
        XCTAssertTrue(waitForReady("bench", notPid: victim.pid), kernel.log)
        XCTAssertEqual(benchSlotsInUse(runtime), 0, "the restarted bench is not running the hold again")
        XCTAssertEqual(try bench.add(a: 5, b: 6), 11, "the next call rebinds")
        XCTAssertEqual(bench.connection.rebinds, 1)
    }

    func testAnAsyncCallInFlightWhenTheServerDiesGetsServerDied() async throws {
        try boot()
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let bench = try BenchClient(importing: runtime, callTimeoutSeconds: 10)
        let hold = Task { try await bench.hold(5_000) }
        let reached = await eventually(seconds: 10) { self.benchSlotsInUse(runtime) >= 1 }
        XCTAssertTrue(reached, "the hold never reached bench")
        XCTAssertEqual(try nkctl("kill", "bench").status, 0)
        do {
            try await hold.value
            XCTFail("the hold returned although its server died")
        } catch CallError.serverDied {
        }
        XCTAssertEqual(bench.connection.rebinds, 0)
        let sum = try await bench.add(a: 1, b: 1)
        XCTAssertEqual(sum, 2)
        XCTAssertEqual(bench.connection.rebinds, 1)
    }

    // MARK: deadlines and failed services

    func testARebindingKeepsTheCallsDeadline() throws {
        try boot(benchSupervision: "[service.supervision]\nbackoff_ms = 3000")
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let notices = Notices()
        runtime.onRevoked = { bo, reason in notices.add(bo, reason) }
        let bench = try BenchClient(importing: runtime, callTimeoutSeconds: 0.3)
        try bench.null()
        try killBench(noticedBy: notices)
        let start = monotonicNanoseconds()
        XCTAssertThrowsError(try bench.null()) { error in
            XCTAssertTrue("\(error)".contains("backing off"), "\(error)")
        }
        let elapsed = Double(monotonicNanoseconds() - start) / 1e9
        XCTAssertGreaterThanOrEqual(elapsed, 0.25, "the rebinding waited for the restart")
        XCTAssertLessThan(elapsed, 1.5, "a 300 ms call spent \(elapsed) s rebinding")
        // A call with room for the back-off waits for the restart and is answered.
        XCTAssertNoThrow(try bench.connection.call(BenchInterface.null, Empty(), timeoutSeconds: 10))
        XCTAssertEqual(bench.connection.rebinds, 1)
    }

    func testAFailedServiceIsUnavailableAtOnceSyncAndAsync() async throws {
        try boot(benchSupervision: "[service.supervision]\nbudget = 1\nwindow_s = 60\nbackoff_ms = 10")
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let bench = try BenchClient(importing: runtime, callTimeoutSeconds: 10)
        try failBench(bench)
        assertUnavailableAtOnce(bench)
        let start = monotonicNanoseconds()
        do {
            _ = try await bench.add(a: 1, b: 1)
            XCTFail("a failed service answered")
        } catch {
            guard case .unavailable(let text) = error else { return XCTFail("expected unavailable, got \(error)") }
            XCTAssertTrue(text.contains("service 'bench' failed"), text)
        }
        XCTAssertLessThan(Double(monotonicNanoseconds() - start) / 1e9, 2, "a failed service must be refused at once")
        try restartAndCall(bench)
    }

    /// Kill bench twice with a budget of one restart: it fails for good.
    private func failBench(_ bench: BenchClient) throws {
        try bench.null()
        let first = try kernel.domain("bench")
        XCTAssertEqual(try nkctl("kill", "bench").status, 0)
        XCTAssertTrue(waitForReady("bench", notPid: first.pid), kernel.log)
        XCTAssertEqual(try nkctl("kill", "bench").status, 0)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) { (try? self.kernel.domain("bench").state) == "failed" }, kernel.log)
    }

    private func assertUnavailableAtOnce(_ bench: BenchClient) {
        let start = monotonicNanoseconds()
        XCTAssertThrowsError(try bench.null()) { error in
            guard case .unavailable(let text) = error as? CallError else { return XCTFail("expected unavailable, got \(error)") }
            XCTAssertTrue(text.contains("service 'bench' failed"), text)
        }
        XCTAssertLessThan(Double(monotonicNanoseconds() - start) / 1e9, 2, "a failed service must be refused at once")
    }

    private func restartAndCall(_ bench: BenchClient) throws {
        let restarted = try nkctl("restart", "bench")
        XCTAssertEqual(restarted.status, 0, restarted.output)
        XCTAssertTrue(waitForReady("bench"), kernel.log)
        XCTAssertEqual(try bench.add(a: 2, b: 2), 4, "the operator's restart brings the client back")
    }

    func testAnUnknownInterfaceFailsAtTheImportOrAtTheFirstCall() async throws {
        try boot()
        let runtime = try kernel.connect()
        defer { runtime.close() }
        XCTAssertThrowsError(try BenchClient(importing: runtime, name: "no-such-interface")) { error in
            guard case .unavailable = error as? CallError else { return XCTFail("expected unavailable, got \(error)") }
        }
        let lazy = BenchClient(connecting: runtime, name: "no-such-interface", callTimeoutSeconds: 5)
        assertUnavailable { () throws(CallError) in try lazy.null() }
        do {
            try await lazy.null()
            XCTFail("an unknown interface answered")
        } catch {
            guard case .unavailable = error else { return XCTFail("expected unavailable, got \(error)") }
        }
    }

    private func assertUnavailable(_ body: () throws(CallError) -> Void) {
        do {
            try body()
            XCTFail("an unknown interface answered")
        } catch .unavailable {
        } catch {
            XCTFail("expected unavailable, got \(error)")
        }
    }

    private func eventually(seconds: Double, _ condition: @escaping () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return condition()
    }
}

/// The result of a call made on another thread.
final class Outcome: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<Void, any Error>?
    func set(_ r: Result<Void, any Error>) { lock.lock(); value = r; lock.unlock() }
    var result: Result<Void, any Error>? { lock.lock(); defer { lock.unlock() }; return value }
}
