// HostileKernelTestCase: a real kernel with name, clock, bench and the hostile service
// (never restarted, so a cut-off hostile stays visible), an operator domain bound to all
// four, and the checks every issue-7 test ends with: the attack failed, the kernel said
// so, everyone else still answers as the same process. Subclasses are one test class per
// finding of issue 7.
import Foundation
import Glibc
import Interfaces
import LRPC
import NanoAdmin
import NanoKernel
import XCTest

class HostileKernelTestCase: XCTestCase {
    var kernel: KernelHarness!
    var runtime: DomainRuntime!
    var hostile: ClientBinding!
    var clock: ClientBinding!
    var names: ClientBinding!
    var bench: ClientBinding!
    var kernelPid: Int32 = 0
    /// The other services as they were before the attack.
    var siblingsBefore: [DomainReport] = []
    static let siblings = ["name", "clock", "bench"]

    /// Extra image text (a [quotas] table, say).
    var imageExtra: String { "" }

    override func setUpWithError() throws {
        kernel = KernelHarness()
        let image = kernel.writeImage("""
            [image]
            name = "hostile"

            [operator]
            imports = ["name", "clock", "bench", "hostile"]

            \(imageExtra)

            \(KernelHarness.coreServices())

            [[service]]
            name = "hostile"
            executable = "nk-hostile"
            provides = ["hostile"]
            imports = ["clock", "name"]
            restart = "never"
            """)
        try kernel.boot(image: image)
        kernelPid = try XCTUnwrap(kernel.kernelProcess())
        runtime = try kernel.connect()
        hostile = try runtime.importInterface(HostileInterface.name)
        clock = try runtime.importInterface(ClockInterface.name)
        names = try runtime.importInterface(NameInterface.name)
        bench = try runtime.importInterface(BenchInterface.name)
        for binding in [hostile, clock, names, bench] { binding!.callTimeoutSeconds = 20 }
        siblingsBefore = try kernel.status().domains.filter { Self.siblings.contains($0.name) }
        XCTAssertEqual(siblingsBefore.count, 3)
    }

    override func tearDown() {
        runtime?.close()
        kernel.shutdown()
    }

    func attack(_ order: AttackOrder) -> Result<AttackOutcome, CallError> {
        do { return .success(try hostile.call(HostileInterface.attack, order)) } catch { return .failure(error) }
    }

    /// Run an attack on a thread of its own (it may never return: the hostile stops or dies).
    func attackInBackground(_ order: AttackOrder) -> () -> Result<AttackOutcome, CallError>? {
        let box = ResultBox()
        Thread { box.set(self.attack(order)) }.start()
        return { box.get() }
    }

    final class ResultBox: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Result<AttackOutcome, CallError>?
        func set(_ v: Result<AttackOutcome, CallError>) { lock.lock(); value = v; lock.unlock() }
        func get() -> Result<AttackOutcome, CallError>? { lock.lock(); defer { lock.unlock() }; return value }
    }

    /// The hostile was cut off for `reason`: said in the log and in its status, its process gone.
    func assertHostileCutOff(because reason: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) {
            (try? self.kernel.domain("hostile")).map { $0.state != "ready" && $0.lastEvent.contains(reason) } ?? false
        }, "hostile: \((try? kernel.domain("hostile"))?.lastEvent ?? "?")\n\(kernel.log.suffix(3000))", file: file, line: line)
        XCTAssertTrue(kernel.log.contains("kernel: disconnected domain 'hostile'"), file: file, line: line)
        let pid = (try? kernel.domain("hostile"))?.pid ?? 0
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) { KernelHarness.hasExited(pid) }, "the cut-off hostile still runs", file: file, line: line)
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
        }
        do {
            XCTAssertGreaterThan(try clock.call(ClockInterface.now, Empty()).seconds, 1_600_000_000, file: file, line: line)
            XCTAssertTrue(try names.call(NameInterface.list, Empty()).names.contains("clock"), file: file, line: line)
            XCTAssertEqual(try bench.call(BenchInterface.add, AddArguments(2, 3)), 5, file: file, line: line)
        } catch {
            XCTFail("an honest call failed after the attack: \(error)\n\(kernel.log.suffix(3000))", file: file, line: line)
        }
    }

    /// Open descriptors, threads, mappings and resident memory of a process.
    struct Usage: CustomStringConvertible {
        let fds: Int, threads: Int, mappings: Int, rssKiB: Int
        var description: String { "fds \(fds), threads \(threads), mappings \(mappings), RSS \(rssKiB) KiB" }

        init(_ pid: Int32) {
            fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
            threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count) ?? -1
            mappings = ((try? String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)) ?? "").split(separator: "\n").count
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            rssKiB = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
                .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? -1
        }
    }
}
