// HostileTestCase: boots an image with the hostile service (nk-hostile) next to name,
// clock and bench, and the assertions every hostile test makes: the attack failed (an
// errno, the domain stopped by its sandbox, or cut off by the kernel), the kernel said
// so, and every other domain is the same process as before and still answers.
import Foundation
import Glibc
import Interfaces
import LRPC
import NanoAdmin
import NanoKernel
import XCTest

class HostileTestCase: XCTestCase {
    var kernel: KernelHarness!
    var runtime: DomainRuntime!
    var hostile: ClientBinding!
    var clock: ClientBinding!
    var names: ClientBinding!
    var bench: ClientBinding!
    /// The other services as they were before the attack.
    var siblingsBefore: [DomainReport] = []
    var kernelPid: Int32 = 0
    /// bench's read-write grant, with a file in it the hostile must not reach.
    var grantDirectory: String { kernel.directory + "/bench-data" }

    static let siblings = ["name", "clock", "bench"]
    /// Extra image text (a [quotas] table, say).
    var imageExtra: String { "" }
    /// The size of the hostile's A-stack memfd for its clock binding.
    let clockAStackBytes = InterfaceDescriptor(name: ClockInterface.name, procedures: ClockInterface.all).astackGeometry.regionSize

    /// Extra lines for bench's [service.sandbox] table.
    var benchSandboxExtra: String { "" }

    override func setUpWithError() throws {
        kernel = KernelHarness()
        try bootHostileImage()
    }

    override func tearDown() {
        runtime?.close()
        kernel.shutdown()
    }

    /// name, clock, bench (with a read-write grant) and the hostile service, which is
    /// never restarted, so a stopped hostile stays visible in the status.
    /// `foregroundInput`: boot in the foreground with it as the kernel's fd 0 (a terminal,
    /// say) instead of `nkctl boot --detach`.
    func bootHostileImage(hostileSandbox: String = "", foregroundInput: Int32? = nil,
                          file: StaticString = #filePath, line: UInt = #line) throws {
        try FileManager.default.createDirectory(atPath: grantDirectory, withIntermediateDirectories: true)
        try Data("bench's data\n".utf8).write(to: URL(fileURLWithPath: grantDirectory + "/secret.txt"))
        let image = kernel.writeImage("""
            [image]
            name = "hostile"

            [operator]
            imports = ["name", "clock", "bench", "hostile"]

            \(imageExtra)

            \(KernelHarness.coreServices(benchExtra: """
                [service.sandbox]
                read_write = ["\(grantDirectory)"]
                \(benchSandboxExtra)
                """))

            [[service]]
            name = "hostile"
            executable = "nk-hostile"
            provides = ["hostile"]
            imports = ["clock", "name"]
            restart = "never"
            \(hostileSandbox)
            """)
        if let foregroundInput {
            try kernel.bootForeground(image: image, input: foregroundInput, file: file, line: line)
        } else {
            try kernel.boot(image: image, file: file, line: line)
        }
        guard let pid = kernel.kernelProcess() else {
            XCTFail("no kernel pid in the boot output: \(kernel.bootOutput)", file: file, line: line)
            throw CallError.kernelGone
        }
        kernelPid = pid
        runtime = try kernel.connect()
        hostile = try runtime.importInterface(HostileInterface.name)
        clock = try runtime.importInterface(ClockInterface.name)
        names = try runtime.importInterface(NameInterface.name)
        bench = try runtime.importInterface(BenchInterface.name)
        for binding in [hostile, clock, names, bench] { binding!.callTimeoutSeconds = 20 }
        let status = try kernel.status()
        siblingsBefore = status.domains.filter { Self.siblings.contains($0.name) }
        XCTAssertEqual(siblingsBefore.count, 3, "\(status)", file: file, line: line)
        XCTAssertEqual(try kernel.domain("hostile").state, "ready", kernel.log, file: file, line: line)
    }

    // MARK: helpers

    /// What the hostile's sandbox has, from the kernel's own status report.
    func hostileSandbox() throws -> [String: String] { try kernel.domain("hostile").sandbox }

    /// Fails the test (and throws) when the host lacks what this attack's defence needs.
    func require(_ mechanisms: Mechanism..., file: StaticString = #filePath, line: UInt = #line) throws {
        let sandbox = try hostileSandbox()
        var missing: [String] = []
        for mechanism in mechanisms {
            switch mechanism {
            case .seccompReport:
                if !(sandbox["seccomp"] ?? "").contains("report and kill") {
                    missing.append("seccomp user notification (refused calls cannot be reported; seccomp: \(sandbox["seccomp"] ?? "absent"))")
                }
            case .landlock:
                if !(sandbox["landlock"] ?? "").hasPrefix("ABI") {
                    missing.append("Landlock (landlock: \(sandbox["landlock"] ?? "absent"))")
                }
            case .landlockSignalScope:
                if !(sandbox["landlock"] ?? "").contains("signals and abstract sockets scoped") {
                    missing.append("Landlock ABI 6 signal scoping (landlock: \(sandbox["landlock"] ?? "absent"))")
                }
            case .namespace(let name):
                if !(sandbox["namespaces"] ?? "").split(separator: ",").contains(Substring(name)) {
                    missing.append("a \(name) namespace (namespaces: \(sandbox["namespaces"] ?? "absent"))")
                }
            }
        }
        if !missing.isEmpty {
            XCTFail("this host lacks \(missing.joined(separator: "; ")): the attack cannot be shown to fail", file: file, line: line)
            throw CallError.kernelGone
        }
    }

    enum Mechanism {
        case seccompReport, landlock, landlockSignalScope
        case namespace(String)
    }

    func attack(_ order: AttackOrder) -> Result<AttackOutcome, CallError> {
        do { return .success(try hostile.call(HostileInterface.attack, order)) } catch { return .failure(error) }
    }

    /// The attack must be refused with an errno, and the hostile must live on and serve.
    @discardableResult
    func assertFails(_ order: AttackOrder, errno expected: Int32? = nil, detail: String? = nil,
                             file: StaticString = #filePath, line: UInt = #line) -> AttackOutcome? {
        let outcome: AttackOutcome
        switch attack(order) {
        case .success(let o): outcome = o
        case .failure(let error):
            XCTFail("\(order.name): expected an errno, the call failed: \(error)\n\(kernel.log)", file: file, line: line)
            return nil
        }
        XCTAssertNotEqual(outcome.errno, 0, "\(order.name) GOT THROUGH: \(outcome.detail)", file: file, line: line)
        if let expected {
            XCTAssertEqual(outcome.errno, expected, "\(order.name): \(outcome.detail)", file: file, line: line)
        }
        if let detail {
            XCTAssertTrue(outcome.detail.contains(detail), "\(order.name): expected '\(detail)' in: \(outcome.detail)", file: file, line: line)
        }
        XCTAssertEqual(try kernel.domain("hostile").state, "ready", file: file, line: line)
        XCTAssertEqual(try hostile.call(HostileInterface.ping, Empty()), 1,
                       "the hostile service is its own pid namespace's init, and still serves", file: file, line: line)
        assertEveryoneElseIsFine(file: file, line: line)
        return outcome
    }

    /// The sandbox must stop the domain, and the kernel must say which call it refused.
    func assertStopped(_ order: AttackOrder, naming expected: String..., file: StaticString = #filePath, line: UInt = #line) {
        switch attack(order) {
        case .failure(.serverDied):
            break
        case .success(let outcome):
            // A refused call never returns into the domain (the kernel kills it while the
            // call is still blocked), so no outcome can come back.
            XCTFail("\(order.name) returned (errno \(outcome.errno): \(outcome.detail)) instead of stopping the domain",
                    file: file, line: line)
        case .failure(let error):
            XCTFail("\(order.name): expected the domain to be stopped, the call failed: \(error)", file: file, line: line)
        }
        let stopped = KernelHarness.waitUntil(seconds: 10) {
            (try? self.kernel.domain("hostile").state) == "stopped-by-sandbox"
        }
        let report = try? kernel.domain("hostile")
        XCTAssertTrue(stopped, "\(order.name): hostile is \(report?.state ?? "gone") (\(report?.lastEvent ?? "")), not stopped by its sandbox\n\(kernel.log)",
                      file: file, line: line)
        let event = report?.lastEvent ?? ""
        XCTAssertTrue(event.hasPrefix("stopped by sandbox: "), "lastEvent: \(event)", file: file, line: line)
        for text in expected {
            XCTAssertTrue(event.contains(text), "\(order.name): the kernel's report '\(event)' does not name '\(text)'", file: file, line: line)
        }
        XCTAssertTrue(kernel.log.contains("kernel: hostile: \(event)"), "the kernel log lacks the report\n\(kernel.log)", file: file, line: line)
        XCTAssertEqual(report.map { kill($0.pid, 0) == 0 }, false, "the stopped domain's process still runs", file: file, line: line)
        assertEveryoneElseIsFine(file: file, line: line)
    }

    /// A protocol violation on the control channel: the kernel must cut the domain off
    /// (and kill it), saying why, and carry on.
    func assertDisconnected(_ order: AttackOrder, because reason: String, file: StaticString = #filePath, line: UInt = #line) {
        switch attack(order) {
        case .failure(.serverDied):
            break
        case .success(let outcome):
            XCTFail("\(order.name) returned (errno \(outcome.errno): \(outcome.detail)) instead of being cut off", file: file, line: line)
        case .failure(let error):
            XCTFail("\(order.name): expected the domain to be cut off, the call failed: \(error)", file: file, line: line)
        }
        let gone = KernelHarness.waitUntil(seconds: 10) {
            ["crashed", "exited"].contains((try? self.kernel.domain("hostile").state) ?? "")
        }
        let report = try? kernel.domain("hostile")
        XCTAssertTrue(gone, "hostile is \(report?.state ?? "gone"): \(report?.lastEvent ?? "")\n\(kernel.log)", file: file, line: line)
        XCTAssertTrue(report?.lastEvent.hasPrefix("disconnected: \(reason)") ?? false,
                      "lastEvent: \(report?.lastEvent ?? "none")", file: file, line: line)
        XCTAssertTrue(kernel.log.contains("kernel: disconnected domain 'hostile'"), kernel.log, file: file, line: line)
        XCTAssertEqual(report.map { kill($0.pid, 0) == 0 }, false, "the cut-off domain's process still runs", file: file, line: line)
        assertEveryoneElseIsFine(file: file, line: line)
    }

    /// The kernel lives, every other domain is the same process as before and answers.
    func assertEveryoneElseIsFine(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(kill(kernelPid, 0), 0, "the kernel (pid \(kernelPid)) is gone", file: file, line: line)
        guard let status = try? kernel.status() else { return XCTFail("the kernel does not answer status\n\(kernel.log)", file: file, line: line) }
        for before in siblingsBefore {
            guard let now = status.domains.first(where: { $0.name == before.name }) else {
                XCTFail("\(before.name) is gone from the status", file: file, line: line)
                continue
            }
            XCTAssertEqual(now.state, "ready", "\(now.name): \(now.lastEvent)", file: file, line: line)
            XCTAssertEqual(now.pid, before.pid, "\(now.name) was replaced: \(now.lastEvent)", file: file, line: line)
            XCTAssertEqual(now.restarts, 0, "\(now.name) restarted", file: file, line: line)
            XCTAssertEqual(kill(now.pid, 0), 0, "\(now.name)'s process is gone", file: file, line: line)
        }
        do {
            let now = try clock.call(ClockInterface.now, Empty())
            let registered = try names.call(NameInterface.list, Empty())
            let sum = try bench.call(BenchInterface.add, AddArguments(2, 3))
            XCTAssertGreaterThan(now.seconds, 1_600_000_000, file: file, line: line)
            XCTAssertTrue(registered.names.contains("clock"), "\(registered.names)", file: file, line: line)
            XCTAssertEqual(sum, 5, file: file, line: line)
        } catch {
            XCTFail("an honest call failed after the attack: \(error)\n\(kernel.log)", file: file, line: line)
        }
    }
}
