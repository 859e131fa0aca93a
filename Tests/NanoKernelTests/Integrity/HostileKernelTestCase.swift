// HostileKernelTestCase: HostileTestCase (a real kernel with name, clock, bench and the
// hostile service, never restarted, so a cut-off hostile stays visible; an operator domain
// bound to all four; the checks every issue-7 test ends with: the attack failed, the
// kernel said so, everyone else still answers as the same process), plus what the kernel's
// integrity tests add: attacks on a thread of their own, the cut-off check, a process's
// resource usage. Subclasses are one test class per finding of issue 7.
import Foundation
import Glibc
import Interfaces
import LRPC
import NanoAdmin
import NanoKernel
import XCTest

class HostileKernelTestCase: HostileTestCase {
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
