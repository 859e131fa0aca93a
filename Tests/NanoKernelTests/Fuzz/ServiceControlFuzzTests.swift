// Fuzzing the control channel from a service's side: the hostile service (a real
// sandboxed domain with an export, a clock binding and call records) sends seeded frames
// on its own channel (attack "fuzz-control", KernelFuzz). The kernel may cut it off, with
// a reason in its status; then the operator starts it again and the next seed goes.
import Foundation
import Glibc
import Interfaces
import KernelFuzz
import LRPC
import XCTest

final class ServiceControlFuzzTests: KernelFuzzTestCase {
    func testControlFramesFromAService() throws {
        let base = seed(0x5E_27_1C)
        let deadline = Date().addingTimeInterval(Self.budgetSeconds)
        var rounds = 0, cutOff = 0, finished = 0
        while Date() < deadline {
            let seed = base &+ UInt64(rounds)
            remember("round \(rounds): fuzz-control seed \(seed)")
            let pid = try kernel.domain("hostile").pid
            let outcome = attackInBackground(AttackOrder("fuzz-control", target: Int64(bitPattern: seed), path: "32"))
            XCTAssertTrue(KernelHarness.waitUntil(seconds: 20) {
                outcome() != nil || (try? self.kernel.domain("hostile").state) != "ready"
            }, "the fuzzing service neither finished nor was cut off; seed \(seed)")
            rounds += 1
            switch outcome() {
            case .success(let o)?: remember("round \(rounds - 1): \(o.detail)"); finished += 1
            case .failure(let error)?: remember("round \(rounds - 1): \(error)")
            case nil: break
            }
            let report = try kernel.domain("hostile")
            if report.state != "ready" || report.pid != pid {
                cutOff += 1
                XCTAssertTrue(report.lastEvent.hasPrefix("disconnected: "), "hostile went without a clear reason: \(report.state) \(report.lastEvent); seed \(seed)")
                XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) { KernelHarness.hasExited(pid) }, "the cut-off hostile still runs; seed \(seed)")
                try startHostileAgain(seed: seed)
            }
            assertKernelHealthy(seed: seed, hostileMayGo: true)
        }
        print("fuzz service control: \(rounds) rounds of 32 frames, \(cutOff) cut off, \(finished) sent them all and were not; last:\n"
              + recent.suffix(4).joined(separator: "\n"))
        XCTAssertGreaterThan(rounds, 0)
        assertResourcesBackToBaseline(seed: base)
    }

    /// The operator starts the cut-off hostile again and binds to its new domain.
    private func startHostileAgain(seed: UInt64) throws {
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) {
            ["crashed", "exited", "stopped-by-sandbox", "failed"].contains((try? self.kernel.domain("hostile").state) ?? "")
        }, "hostile: \((try? kernel.domain("hostile"))?.state ?? "?")")
        _ = try runtime.admin("start", argument: "hostile")
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 15) { (try? self.kernel.domain("hostile").state) == "ready" },
                      "hostile did not start again; seed \(seed)\n\(kernel.log.suffix(2000))")
        hostile = try runtime.importInterface(HostileInterface.name)
        hostile.callTimeoutSeconds = 20
        hostileBefore = try kernel.domain("hostile")
    }

    /// Finding (seed 2003, frame 0): an empty control message read as the service hanging
    /// up, so the kernel stopped reading a domain that still ran (its frames, and the
    /// descriptors riding on them, piled up unread). It is garbage: the sender is cut off.
    func testAnEmptyControlMessageCutsTheServiceOff() {
        assertDisconnected(AttackOrder("empty-frame"), because: "wrote garbage on its control channel (empty control message)")
    }
}
