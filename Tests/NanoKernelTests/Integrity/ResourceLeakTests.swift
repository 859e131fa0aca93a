// Issue 7, finding 1 (descriptor leak): nothing a domain causes outlives it. After 1,000
// operator sessions, 1,000 import/release cycles and 100 service restarts (20 hostile
// services, each killed five times) the kernel's descriptors, threads and mappings are
// back at their baseline, and everyone still answers.
import Foundation
import Glibc
import Interfaces
import LRPC
import NanoAdmin
import NanoKernel
import XCTest

final class ResourceLeakTests: KernelTestCase {
    override var bootsDefaultImage: Bool { false }

    /// Open descriptors, threads and mappings of the kernel process.
    private struct Usage: CustomStringConvertible {
        let fds: Int, threads: Int, mappings: Int, rssKiB: Int
        var description: String { "fds \(fds), threads \(threads), mappings \(mappings), RSS \(rssKiB) KiB" }
    }

    private func usage(_ pid: Int32) -> Usage {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count) ?? -1
        let maps = ((try? String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)) ?? "").split(separator: "\n").count
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
            .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? -1
        return Usage(fds: fds, threads: threads, mappings: maps, rssKiB: rss)
    }

    private func bootWithHostiles(count: Int, quotas: String = "") throws -> Int32 {
        var text = """
            [image]
            name = "integrity"

            [operator]
            imports = ["name", "clock", "bench"]

            \(quotas)

            \(KernelHarness.coreServices())
            """
        for i in 0..<count {
            text += """

                [[service]]
                name = "h\(i)"
                executable = "nk-hostile"
                arguments = ["h\(i)"]
                provides = ["h\(i)"]
                imports = ["clock", "name"]
                restart = "always"

                """
        }
        try kernel.boot(image: kernel.writeImage(text))
        return try XCTUnwrap(kernel.kernelProcess())
    }

    private func settled(_ pid: Int32, near baseline: Usage) -> Bool {
        let now = usage(pid)
        return now.fds <= baseline.fds + 4 && now.threads <= baseline.threads + 2 && now.mappings <= baseline.mappings + 8
    }

    func testNothingADomainCausesOutlivesIt() throws {
        let pid = try bootWithHostiles(count: 20)
        // Warm up once (first-use allocations), then take the baseline.
        _ = try kernel.status()
        let baseline = usage(pid)

        // 1,000 operator sessions.
        for _ in 0..<1_000 {
            let session = try kernel.connect()
            _ = try session.admin("status")
            session.close()
        }
        // 1,000 import/release cycles from one operator.
        let operatorDomain = try kernel.connect()
        for _ in 0..<1_000 {
            let clock = try operatorDomain.importInterface(ClockInterface.name)
            clock.callTimeoutSeconds = 10
            _ = try clock.call(ClockInterface.now, Empty())
        }
        operatorDomain.close()
        // 100 service restarts: each of the 20 hostiles killed 5 times (its restart budget).
        var restarts = 0
        for round in 0..<5 {
            for i in 0..<20 {
                let before = try kernel.domain("h\(i)")
                XCTAssertEqual(before.restarts, round)
                kill(before.pid, SIGKILL)
                XCTAssertTrue(KernelHarness.waitUntil(seconds: 20) {
                    (try? self.kernel.domain("h\(i)")).map { $0.restarts == round + 1 && $0.state == "ready" } ?? false
                }, "h\(i) did not come back after kill \(round + 1)\n\(kernel.log.suffix(3000))")
                restarts += 1
            }
        }
        XCTAssertEqual(restarts, 100)
        // The dead hostiles' records were replaced; kill them now for good and compare at
        // the same number of live domains as the baseline: restart them once more each.
        let ok = KernelHarness.waitUntil(seconds: 20) { self.settled(pid, near: baseline) }
        let after = usage(pid)
        print("resource test: kernel before \(baseline); after \(after)")
        XCTAssertTrue(ok, "kernel resources did not return to baseline: before \(baseline), after \(after)")
        // Everyone still answers.
        let probe = try kernel.connect()
        defer { probe.close() }
        let clock = try probe.importInterface(ClockInterface.name)
        clock.callTimeoutSeconds = 10
        XCTAssertGreaterThan(try clock.call(ClockInterface.now, Empty()).seconds, 1_600_000_000)
        XCTAssertTrue(try kernel.status().domains.filter { $0.kind == "service" }.allSatisfy { $0.state == "ready" })
    }
}
