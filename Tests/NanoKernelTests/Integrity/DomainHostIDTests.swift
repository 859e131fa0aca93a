// DomainHostIDTests: a root kernel runs each service as a host uid and gid of its own
// (DomainIDBlock), so the counters Linux keeps per user (threads against RLIMIT_NPROC,
// descriptors in flight) are per domain: a domain that exhausts its own cannot stop
// another from starting a thread or being restarted. Under the old shared uid (65534)
// each of these failed.
import BootImage
import Foundation
import Glibc
import Interfaces
import LRPC
import NanoKernel
import XCTest

final class DomainHostIDTests: HostileTestCase {
    /// The hostile and bench get the same process limit, so under one shared uid the
    /// hostile's hoard would leave bench nothing.
    override var benchSandboxExtra: String { "processes = 96" }

    override func setUpWithError() throws {
        kernel = KernelHarness()
        try bootHostileImage(hostileSandbox: "[service.sandbox]\nprocesses = 96")
    }

    private func requireRootKernel() throws {
        try XCTSkipUnless(geteuid() == 0, "only a root kernel gives domains ids of their own; an unprivileged one maps its own uid")
        try require(.namespace("user"))
    }

    /// The real and effective uid and gid of a process, from /proc/PID/status.
    private func hostIDs(_ pid: Int32) throws -> (uid: [UInt32], gid: [UInt32]) {
        let text = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        func field(_ name: String) -> [UInt32] {
            let line = text.split(separator: "\n").first { $0.hasPrefix(name + ":") } ?? ""
            return line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().compactMap { UInt32($0) }
        }
        return (field("Uid"), field("Gid"))
    }

    private func nkctl(_ arguments: String...) throws -> (status: Int32, output: String) {
        try KernelHarness.run([KernelHarness.nkctl, arguments[0], "--socket", kernel.socketPath] + arguments.dropFirst(), timeout: 30)
    }

    private func kernelUsage() -> (fds: Int, threads: Int) {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(kernelPid)/fd").count) ?? -1
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(kernelPid)/task").count) ?? -1
        return (fds, threads)
    }

    func testEachServiceRunsAsAHostUidAndGidOfItsOwnThatStatusShows() throws {
        try requireRootKernel()
        var seen: [UInt32: String] = [:]
        for name in Self.siblings + ["hostile"] {
            let report = try kernel.domain(name)
            let ids = try hostIDs(report.pid)
            let uid = try XCTUnwrap(ids.uid.first, "\(name): no Uid line")
            XCTAssertEqual(Set(ids.uid).count, 1, "\(name): real, effective, saved and fs uid are one: \(ids.uid)")
            XCTAssertEqual(ids.gid.first, uid, "\(name): its gid is the number of its uid")
            XCTAssertEqual(report.sandbox["uid"], "\(uid)", "\(name): nkctl status names the uid it runs as")
            XCTAssertEqual(report.sandbox["gid"], "\(uid)")
            XCTAssertTrue(DomainIDBlock().range.contains(uid), "\(name) runs as \(uid), outside the default block")
            XCTAssertNil(seen[uid], "\(name) shares uid \(uid) with \(seen[uid] ?? "")")
            seen[uid] = name
        }
        print("host ids: \(seen.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))")
        // Stable across restarts: files a service wrote stay its own.
        let before = try kernel.domain("bench")
        XCTAssertEqual(try nkctl("kill", "bench").status, 0)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 15) {
            (try? self.kernel.domain("bench")).map { $0.state == "ready" && $0.pid != before.pid } ?? false
        }, kernel.log)
        XCTAssertEqual(try hostIDs(try kernel.domain("bench").pid).uid.first, UInt32(before.sandbox["uid"] ?? ""))
        XCTAssertEqual(try kernel.domain("bench").sandbox["uid"], before.sandbox["uid"])
    }

    func testAThreadHoardLeavesOthersTheirThreadsAndRestarts() throws {
        try requireRootKernel()
        _ = try kernel.status()
        let baseline = kernelUsage()
        let hoard = assertFails(AttackOrder("hold-threads"), errno: EAGAIN)
        XCTAssertTrue(hoard?.detail.hasPrefix("holding ") ?? false, hoard?.detail ?? "")
        print("hostile: \(hoard?.detail ?? "no outcome")")

        // A new binding to bench needs a new server thread in bench.
        let session = try kernel.connect()
        defer { session.close() }
        let fresh = try session.importInterface(BenchInterface.name, timeoutSeconds: 10)
        fresh.callTimeoutSeconds = 10
        XCTAssertEqual(try fresh.call(BenchInterface.add, AddArguments(20, 22)), 42)

        // A restart of bench: a new process (spawned as bench's uid) with its threads.
        let before = try kernel.domain("bench")
        XCTAssertEqual(try nkctl("kill", "bench").status, 0)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 15) {
            (try? self.kernel.domain("bench")).map { $0.state == "ready" && $0.pid != before.pid } ?? false
        }, "bench did not come back while the hostile holds its threads: \(kernel.log)")
        let again = try session.importInterface(BenchInterface.name, timeoutSeconds: 10)
        again.callTimeoutSeconds = 10
        XCTAssertEqual(try again.call(BenchInterface.add, AddArguments(1, 2)), 3)

        // The hoard ends with its domain; the kernel holds nothing more for it.
        XCTAssertEqual(try nkctl("kill", "hostile").status, 0)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 15) { (try? self.kernel.domain("hostile").state) != "ready" })
        session.close()
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 20) {
            let now = self.kernelUsage()
            return now.fds <= baseline.fds + 4 && now.threads <= baseline.threads + 2
        }, "kernel before \(baseline), after \(kernelUsage())")
    }
}
