// `nkctl boot --learn SERVICE`: the service's filter records the syscalls it would have
// stopped, lets them run, and the kernel prints the image lines that would allow them.
import Foundation
import Interfaces
import LRPC
import NanoAdmin
import XCTest

final class SandboxLearningTests: XCTestCase {
    var kernel: KernelHarness!

    override func setUp() { kernel = KernelHarness() }
    override func tearDown() {
        runtimes.forEach { $0.close() }
        runtimes = []
        kernel.shutdown()
    }

    private func bootHostile(learning: [String]) throws {
        try kernel.boot(image: hostileImage(), arguments: learning.flatMap { ["--learn", $0] })
    }

    /// The hostile's host uid and gid under a root kernel (its image: name, clock, bench, hostile).
    private var hostileID: UInt32 { KernelHarness.hostID(of: "hostile", among: ["name", "clock", "bench", "hostile"]) }

    private func hostileImage(sandbox: String = "", name: String = "image.toml") -> String {
        kernel.writeImage("""
            [image]
            name = "learning"

            [operator]
            imports = ["name", "clock", "hostile"]

            \(KernelHarness.coreServices())

            [[service]]
            name = "hostile"
            executable = "nk-hostile"
            provides = ["hostile"]
            imports = ["clock", "name"]
            restart = "never"
            \(sandbox)
            """, name: name)
    }

    func testALearningServiceKeepsRunningAndTheKernelPrintsTheLinesItNeeds() throws {
        try bootHostile(learning: ["hostile"])
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let hostile = try runtime.importInterface(HostileInterface.name)
        hostile.callTimeoutSeconds = 20
        // Without --learn this stops the domain (HostileServiceTests.testAnInternetSocketStopsTheDomain).
        _ = try hostile.call(HostileInterface.attack, AttackOrder("socket-inet"))
        _ = try hostile.call(HostileInterface.attack, AttackOrder("socket-inet"))
        XCTAssertEqual(try hostile.call(HostileInterface.ping, Empty()), 1, "the domain still serves")
        let report = try kernel.domain("hostile")
        XCTAssertEqual(report.state, "ready")
        XCTAssertTrue(report.lastEvent.contains("learning: its filter would have stopped socket"), report.lastEvent)
        XCTAssertNotNil(report.sandbox["learning"])
        let log = kernel.log
        XCTAssertTrue(log.contains("hostile: learn: socket(AF_INET, SOCK_STREAM, 0) would have stopped it: socket is not in its syscall allow-list"), log)
        XCTAssertTrue(log.contains("hostile: learn: [service.sandbox] extra_syscalls = [\"socket\"]"), log)
        XCTAssertEqual(log.components(separatedBy: "extra_syscalls = [\"socket\"]").count, 2, "one report per syscall")
    }

    func testLearningAServiceTheImageDoesNotHaveIsRefused() throws {
        let (status, output) = try KernelHarness.run(
            [KernelHarness.nkctl, "boot", "--detach", "--image", hostileImage(), "--socket", kernel.socketPath,
             "--learn", "nosuch"], timeout: 40)
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(output.contains("--learn nosuch: the image has no service 'nosuch' (services: name, clock, bench, hostile)"), output)
    }

    // MARK: paths

    /// A config file outside its grants, and a durable store (a temporary file, fsync,
    /// rename) in a directory it may write: one learning boot finds every line.
    func testOneLearningBootFindsEveryLineADurableStoreNeeds() throws {
        let (config, store) = try prepareHostFiles()
        try kernel.boot(image: hostileImage(), arguments: ["--learn", "hostile"])
        try runStoreService(config: config, store: store, expect: 0)
        let sandbox = try kernel.domain("hostile").sandbox
        let readOnly = try XCTUnwrap(sandbox["learned_read_only"], "\(sandbox)\n\(kernel.log)")
        let readWrite = try XCTUnwrap(sandbox["learned_read_write"], "\(sandbox)\n\(kernel.log)")
        let syscalls = try XCTUnwrap(sandbox["learned_extra_syscalls"], "\(sandbox)\n\(kernel.log)")
        XCTAssertEqual(readWrite, "read_write = [\"\(store)\"]")
        XCTAssertEqual(readOnly, "read_only = [\"\(config)\"]", "the store's files are under its read_write line")
        XCTAssertTrue(syscalls.contains("\"fsync\"") && syscalls.contains("\"rename\""), syscalls)
        XCTAssertNil(sandbox["learned_fixes"], "the store is the domain's uid's: \(sandbox)")
        let log = kernel.log
        XCTAssertTrue(log.contains("hostile: learn: [service.sandbox] \(readWrite)"), log)
        XCTAssertTrue(log.contains("would have been refused: \"\(config)\" is not in its root"), log)
        let report = try kernel.domain("hostile")
        XCTAssertTrue(report.lastEvent.contains("2 paths outside its grants"), report.lastEvent)
        // When it ends, the whole block at once.
        _ = try KernelHarness.run([KernelHarness.nkctl, "stop", "hostile", "--socket", kernel.socketPath], timeout: 20)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) { (try? self.kernel.domain("hostile").state) == "stopped" })
        let block = ["what it needed, to paste into its [[service]] entry:", "  [service.sandbox]", "  \(readOnly)", "  \(readWrite)", "  \(syscalls)"]
            .map { "kernel: hostile: learn: \($0)" }.joined(separator: "\n")
        XCTAssertTrue(kernel.log.replacingOccurrences(of: #"\[[0-9.]+\] warning: "#, with: "", options: .regularExpression).contains(block), kernel.log)
        kernel.shutdown()

        // Paste the three lines into the entry and boot normally: the same work succeeds.
        let pasted = "[service.sandbox]\n\(readOnly)\n\(readWrite)\n\(syscalls)"
        kernel = KernelHarness()
        let (config2, store2) = try prepareHostFiles()
        try kernel.boot(image: hostileImage(sandbox: pasted
            .replacingOccurrences(of: config, with: config2).replacingOccurrences(of: store, with: store2)))
        XCTAssertNil(try kernel.domain("hostile").sandbox["learning"])
        try runStoreService(config: config2, store: store2, expect: 0)
        XCTAssertEqual(try kernel.domain("hostile").state, "ready", kernel.log)
    }

    /// The same without the pasted lines stops the domain: what learning found was needed.
    func testWithoutTheLearnedLinesTheStoreFails() throws {
        let (config, store) = try prepareHostFiles()
        try kernel.boot(image: hostileImage(sandbox: "[service.sandbox]\nextra_syscalls = [\"fsync\", \"rename\"]"))
        let hostile = try bindHostile()
        XCTAssertEqual(try hostile.call(HostileInterface.attack, AttackOrder("open-path", path: config)).errno, ENOENT)
        XCTAssertEqual(try hostile.call(HostileInterface.attack, AttackOrder("durable-write", path: store)).errno, ENOENT)
    }

    /// A store directory the domain's uid cannot write: learning names the fix.
    func testLearningNamesTheOwnershipFix() throws {
        let (config, store) = try prepareHostFiles()
        if geteuid() == 0 { XCTAssertEqual(chown(store, 0, 0), 0) } else { XCTAssertEqual(chmod(store, 0o555), 0) }
        try kernel.boot(image: hostileImage(sandbox: "[service.sandbox]\nread_write = [\"\(store)\"]"),
                        arguments: ["--learn", "hostile"])
        let hostile = try bindHostile()
        _ = config
        XCTAssertEqual(try hostile.call(HostileInterface.attack, AttackOrder("durable-write", path: store)).errno, EACCES,
                       "the host's permissions apply while learning too")
        let sandbox = try kernel.domain("hostile").sandbox
        let fixes = try XCTUnwrap(sandbox["learned_fixes"], "\(sandbox)\n\(kernel.log)")
        let id = hostileID
        let expected = geteuid() == 0 ? "chown \(id):\(id) \(store)" : "chmod u+w \(store)"
        XCTAssertEqual(fixes, expected)
        XCTAssertNil(sandbox["learned_read_write"], "the grant is there already: \(sandbox)")
        XCTAssertTrue(kernel.log.contains("hostile: learn: its read_write grant would fail: \"\(store)\" is owned by"), kernel.log)
    }

    /// Bad pointers, paths without an end, oversized and hostile paths, thousands of
    /// notifications from four threads: the kernel keeps answering everyone, records
    /// within its bounds, logs nothing raw, and its descriptors and threads come back.
    func testAHostileLearnerCannotStallTheKernel() throws {
        let storm = kernel.directory + "/storm"
        try FileManager.default.createDirectory(atPath: storm, withIntermediateDirectories: true)
        for i in 0..<200 { try Data("x".utf8).write(to: URL(fileURLWithPath: "\(storm)/\(i)")) }
        for i in 0..<3 { try Data().write(to: URL(fileURLWithPath: "\(storm)/\u{1b}[31m\"quote\"\\\n\(i)")) }
        try kernel.boot(image: hostileImage(), arguments: ["--learn", "hostile"])
        let pid = try XCTUnwrap(kernel.kernelProcess())
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let hostile = try runtime.importInterface(HostileInterface.name)
        let clock = try runtime.importInterface(ClockInterface.name)
        hostile.callTimeoutSeconds = 30
        clock.callTimeoutSeconds = 10
        XCTAssertEqual(try hostile.call(HostileInterface.ping, Empty()), 1)
        let before = usage(pid)
        // The same loop for 3 s without the storm, for the figure printed below (no timing is asserted).
        var quiet = 0
        let quietEnd = Date().addingTimeInterval(3)
        while Date() < quietEnd {
            _ = try clock.call(ClockInterface.now, Empty())
            _ = try kernel.status()
            quiet += 1
        }

        let done = DispatchSemaphore(value: 0)
        let outcome = Locked<Result<AttackOutcome, Error>?>(nil)
        Thread.detachNewThread {
            do { outcome.set(.success(try hostile.call(HostileInterface.attack, AttackOrder("learn-storm", target: 3000, path: storm)))) }
            catch { outcome.set(.failure(error)) }
            done.signal()
        }
        var served = 0
        while done.wait(timeout: .now()) == .timedOut {
            _ = try clock.call(ClockInterface.now, Empty())
            _ = try kernel.status()
            served += 1
        }
        let result = try XCTUnwrap(outcome.get())
        XCTAssertEqual(try result.get().errno, 0, "\(result)")
        print("learn storm: \((try? result.get().detail) ?? "") in 3 s; meanwhile \(served) clock calls and status requests answered (\(quiet) in 3 s without it)")
        XCTAssertGreaterThan(served, 0)
        XCTAssertEqual(try hostile.call(HostileInterface.ping, Empty()), 1, "the learner still serves")
        let report = try kernel.domain("hostile")
        XCTAssertEqual(report.state, "ready")
        let readOnly = report.sandbox["learned_read_only"] ?? ""
        XCTAssertLessThanOrEqual(readOnly.components(separatedBy: "\", \"").count, 63, readOnly)
        let log = kernel.log
        XCTAssertTrue(log.contains("the rest are not recorded"), log)
        XCTAssertFalse(log.unicodeScalars.contains("\u{1b}"), "a raw escape reached the log")
        XCTAssertTrue(log.contains("\\u001B[31m\\\"quote\\\"\\\\\\u000A"), "the hostile name is shown escaped")
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) {
            let now = self.usage(pid)
            return now.fds <= before.fds + 2 && now.threads <= before.threads + 1
        }, "kernel before \(before), after \(usage(pid))")
    }

    /// A granted directory holding a symlink to a file elsewhere: the file is named, with
    /// where the link leads, and with that line a normal boot opens it through the link.
    func testASymlinkOutOfAGrantIsNamedWithWhereItLeads() throws {
        let (granted, elsewhere) = try prepareLink(in: kernel.directory)
        let grant = "[service.sandbox]\nread_only = [\"\(granted)\"]"
        try kernel.boot(image: hostileImage(sandbox: grant), arguments: ["--learn", "hostile"])
        let hostile = try bindHostile()
        XCTAssertEqual(try hostile.call(HostileInterface.attack, AttackOrder("open-path", path: granted + "/ca.pem")).errno, 0)
        let line = try XCTUnwrap(try kernel.domain("hostile").sandbox["learned_read_only"], kernel.log)
        XCTAssertEqual(line, "read_only = [\"\(granted)\", \"\(elsewhere)\"]")
        XCTAssertTrue(kernel.log.contains("\"\(granted)/ca.pem\" leads to \"\(elsewhere)\", outside its grants"), kernel.log)
        kernel.shutdown()

        kernel = KernelHarness()
        let again = try prepareLink(in: kernel.directory)
        try kernel.boot(image: hostileImage(sandbox: "[service.sandbox]\n" + line.replacingOccurrences(of: granted, with: again.granted)
            .replacingOccurrences(of: elsewhere, with: again.elsewhere)))
        let outcome = try bindHostile().call(HostileInterface.attack, AttackOrder("open-path", path: again.granted + "/ca.pem"))
        XCTAssertEqual(outcome.errno, 0, outcome.detail)
    }

    private func prepareLink(in directory: String) throws -> (granted: String, elsewhere: String) {
        let granted = directory + "/conf.d"
        let elsewhere = directory + "/shared/ca.pem"
        try FileManager.default.createDirectory(atPath: granted, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/shared", withIntermediateDirectories: true)
        try Data("pem\n".utf8).write(to: URL(fileURLWithPath: elsewhere))
        XCTAssertEqual(chmod(directory, 0o755), 0)
        XCTAssertEqual(symlink(elsewhere, granted + "/ca.pem"), 0)
        return (granted, elsewhere)
    }

    /// userfaultfd could stall the kernel's reads of the domain's memory: refused with
    /// EPERM even while learning, and still named.
    func testUserfaultfdIsRefusedEvenWhileLearning() throws {
        try kernel.boot(image: hostileImage(), arguments: ["--learn", "hostile"])
        let hostile = try bindHostile()
        let outcome = try hostile.call(HostileInterface.attack, AttackOrder("userfaultfd"))
        XCTAssertEqual(outcome.errno, EPERM, outcome.detail)
        XCTAssertEqual(try hostile.call(HostileInterface.ping, Empty()), 1)
        XCTAssertEqual(try kernel.domain("hostile").sandbox["learned_extra_syscalls"], "extra_syscalls = [\"userfaultfd\"]")
        XCTAssertTrue(kernel.log.contains("refused with EPERM even while learning"), kernel.log)
    }

    // MARK: helpers

    private func bindHostile() throws -> ClientBinding {
        let runtime = try kernel.connect()
        runtimes.append(runtime)
        let hostile = try runtime.importInterface(HostileInterface.name)
        hostile.callTimeoutSeconds = 20
        return hostile
    }

    private var runtimes: [DomainRuntime] = []

    /// A config file to read, readable by every uid, and a store directory owned by the
    /// hostile's uid (its own, under a root kernel).
    private func prepareHostFiles() throws -> (config: String, store: String) {
        let config = kernel.directory + "/etc-kv/settings.conf"
        let store = kernel.directory + "/kv-store"
        try FileManager.default.createDirectory(atPath: kernel.directory + "/etc-kv", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        try Data("setting = 1\n".utf8).write(to: URL(fileURLWithPath: config))
        XCTAssertEqual(chmod(kernel.directory, 0o755), 0)
        if geteuid() == 0 { XCTAssertEqual(chown(store, hostileID, hostileID), 0) }
        return (config, store)
    }

    private func runStoreService(config: String, store: String, expect: Int32, file: StaticString = #filePath, line: UInt = #line) throws {
        let hostile = try bindHostile()
        let read = try hostile.call(HostileInterface.attack, AttackOrder("open-path", path: config))
        XCTAssertEqual(read.errno, expect, read.detail, file: file, line: line)
        let write = try hostile.call(HostileInterface.attack, AttackOrder("durable-write", path: store))
        XCTAssertEqual(write.errno, expect, write.detail, file: file, line: line)
    }

    private struct Usage { let fds: Int, threads: Int }

    private func usage(_ pid: Int32) -> Usage {
        Usage(fds: (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1,
              threads: (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count) ?? -1)
    }
}

/// A value shared between a test and the thread it starts.
private final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func set(_ new: Value) { lock.lock(); value = new; lock.unlock() }
    func get() -> Value { lock.lock(); defer { lock.unlock() }; return value }
}
