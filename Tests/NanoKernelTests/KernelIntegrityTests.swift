// Wearing the kernel down and stalling it, with real processes: (1) nothing a domain
// causes outlives it: after 1,000 operator sessions, 1,000 import/release cycles and 100
// service restarts the kernel's descriptors, threads and mappings are back at their
// baseline; (3) an operator client that stops reading its channel is cut off within the
// outbox deadline and everyone else's `status` keeps answering meanwhile; (4) a flood of
// connections that never say hello is closed at the hello deadline and bounded by the
// operator_connections quota; a client's imports stop at its quota with an error naming it.
import Foundation
import Glibc
import Interfaces
import LRPC
import NanoAdmin
import NanoKernel
import XCTest

final class KernelIntegrityTests: KernelTestCase {
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

    func testAnOperatorThatStopsReadingIsCutOffAndStatusKeepsAnswering() throws {
        let pid = try bootWithHostiles(count: 0)
        // A raw operator connection: hello, welcome, then requests it never reads replies to.
        let silent = try ControlChannel.connect(path: kernel.socketPath)
        try silent.send(.hello(domainName: "silent"))
        XCTAssertNotNil(try silent.receive())
        var sent = 0
        _ = nk_set_nonblocking_for_test(silent.fd.rawValue)
        while sent < 20_000 {
            guard (try? silent.send(.admin(request: UInt32(sent), command: "status", argument: ""))) != nil else { break }
            sent += 1
        }
        // Meanwhile everyone else is served: time `status` while the silent one is stalled.
        var worst = 0.0
        var samples: [Double] = []
        for _ in 0..<20 {
            let start = monotonicNanoseconds()
            _ = try kernel.status()
            let ms = Double(monotonicNanoseconds() - start) / 1e6
            samples.append(ms)
            worst = max(worst, ms)
        }
        samples.sort()
        print("status while an operator refuses to read: median \(samples[samples.count / 2]) ms, worst \(worst) ms (\(sent) unread requests sent)")
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) { self.kernel.log.contains("did not read its control channel") || self.kernel.log.contains("left the kernel's messages unread") },
                      "the silent operator was not cut off\n\(kernel.log.suffix(2000))")
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) {
            (try? self.kernel.status().domains.contains { $0.name.hasPrefix("silent") }) == false
        })
        XCTAssertGreaterThan(usage(pid).fds, 0)
    }

    func testSilentConnectionsAreClosedAndBoundedByTheQuota() throws {
        _ = try bootWithHostiles(count: 0, quotas: "[quotas]\noperator_connections = 8")
        var silent: [ControlChannel] = []
        for _ in 0..<40 { if let c = try? ControlChannel.connect(path: kernel.socketPath) { silent.append(c) } }
        // While the quota is full, a new operator is refused; once the deadline passes it is not.
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) { self.kernel.log.contains("quota operator_connections (8) reached") })
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) { self.kernel.log.contains("did not say hello within 2 s") })
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) { (try? self.kernel.status()) != nil },
                      "a real operator is served once the silent connections are gone")
        silent.removeAll()
    }

    func testImportsStopAtTheQuotaWithAnErrorNamingIt() throws {
        _ = try bootWithHostiles(count: 0, quotas: "[quotas]\nbindings_per_interface = 3")
        let client = try kernel.connect()
        defer { client.close() }
        var held: [ClientBinding] = []
        for _ in 0..<3 { held.append(try client.importInterface(ClockInterface.name)) }
        XCTAssertThrowsError(try client.importInterface(ClockInterface.name)) { error in
            XCTAssertTrue("\(error)".contains("quota bindings_per_interface"), "\(error)")
        }
        // The server is not the one that fails: clock still serves, bench still binds.
        held[0].callTimeoutSeconds = 10
        XCTAssertGreaterThan(try held[0].call(ClockInterface.now, Empty()).seconds, 1_600_000_000)
        XCTAssertEqual(try kernel.domain("clock").state, "ready")
        _ = try client.importInterface(BenchInterface.name)
    }
}

/// The test's raw connection must not block on a full socket.
private func nk_set_nonblocking_for_test(_ fd: Int32) -> Int32 {
    let flags = fcntl(fd, F_GETFL)
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK)
}
