// DomainHostIDTests: a root kernel runs each service as a host uid and gid of its own
// (DomainIDBlock), so the counters Linux keeps per host user (SCM_RIGHTS descriptors in
// flight, pipe pages) are per domain: one domain that exhausts its own cannot stop
// another from being restarted or a kernel from booting. With every service on one
// shared uid the uid test and the descriptor test fail. The thread test passes either
// way on Linux 6.18 (RLIMIT_NPROC is counted per user namespace, and each domain has
// its own); it guards that a thread hoard stays the hoarder's business.
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

    /// Descriptors in flight as the hostile's host uid, up to Linux's limit for that user
    /// (`nk-hostile --hold-in-flight`, as root: a process of the domain's uid outside any
    /// sandbox), leave bench's restart (its spawn child sends the seccomp listener as
    /// bench's uid) and a new kernel's boot untouched. Under a shared uid both failed with
    /// ETOOMANYREFS ("Too many references: cannot splice").
    func testDescriptorsInFlightAsOneDomainsUidLeaveOthersRestartsAndBoots() throws {
        try requireRootKernel()
        _ = try kernel.status()
        let baseline = kernelUsage()
        let hostileID = try XCTUnwrap(kernel.domain("hostile").sandbox["uid"])
        let holder = try InFlightHolder(uid: hostileID)
        defer { holder.stop() }
        let held = try XCTUnwrap(holder.waitForCount(seconds: 10), "the holder said nothing")
        print("holder as uid \(hostileID): \(held)")
        XCTAssertTrue(held.hasSuffix("Too many references: cannot splice"), held)
        XCTAssertGreaterThan(Int(held.prefix { $0.isNumber }) ?? 0, 64, "fewer in flight than a domain's open_files: \(held)")

        let before = try kernel.domain("bench")
        XCTAssertEqual(try nkctl("kill", "bench").status, 0)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 15) {
            (try? self.kernel.domain("bench")).map { $0.state == "ready" && $0.pid != before.pid } ?? false
        }, "bench did not come back while descriptors are in flight as the hostile's uid: \((try? kernel.domain("bench").lastEvent) ?? "")\n\(kernel.log)")
        let rebound = try runtime.importInterface(BenchInterface.name, timeoutSeconds: 10)
        rebound.callTimeoutSeconds = 10
        XCTAssertEqual(try rebound.call(BenchInterface.add, AddArguments(2, 3)), 5)

        // A second kernel boots its services (each spawn sends a listener) meanwhile.
        let other = KernelHarness()
        defer { other.shutdown() }
        XCTAssertNoThrow(try other.boot())
        let services = try other.status().domains.filter { $0.kind == "service" }
        XCTAssertFalse(services.isEmpty)
        XCTAssertEqual(services.filter { $0.state != "ready" }.map(\.name), [], other.log)

        holder.stop()
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 20) {
            let now = self.kernelUsage()
            return now.fds <= baseline.fds + 4 && now.threads <= baseline.threads + 2
        }, "kernel before \(baseline), after \(kernelUsage())")
    }
}

/// `nk-hostile --hold-in-flight UID`: holds descriptors in flight until stopped.
private final class InFlightHolder {
    let process = Process()
    let input = Pipe()
    let output = Pipe()

    init(uid: String) throws {
        process.executableURL = URL(fileURLWithPath: KernelHarness.buildDirectory + "/nk-hostile")
        process.arguments = ["--hold-in-flight", uid]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        _ = fcntl(output.fileHandleForReading.fileDescriptor, F_SETFL, O_NONBLOCK)
    }

    /// Its one line: "COUNT why it stopped".
    func waitForCount(seconds: Double) -> String? {
        var text = ""
        _ = KernelHarness.waitUntil(seconds: seconds) {
            var buffer = [UInt8](repeating: 0, count: 256)
            let n = read(self.output.fileHandleForReading.fileDescriptor, &buffer, buffer.count)
            if n > 0 { text += String(decoding: buffer.prefix(n), as: UTF8.self) }
            return text.contains("\n")
        }
        return text.contains("\n") ? String(text.prefix { $0 != "\n" }) : nil
    }

    /// Closing its input ends it; then it is reaped (or killed after 5 s).
    func stop() {
        guard process.isRunning else { return }
        try? input.fileHandleForWriting.close()
        if !KernelHarness.waitUntil(seconds: 5, { !self.process.isRunning }) { process.terminate() }
        process.waitUntilExit()
    }
}
