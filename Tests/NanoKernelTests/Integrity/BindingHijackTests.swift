// Issue 7, finding 2 (binding hijack): only the parties of a binding act on it. A domain
// that refuses bindings the kernel offered to other servers is refused, logged and cut
// off; the offers and their honest servers are untouched. A client that leaves while its
// bind is pending cancels it cleanly: the server's crossing answer harms nobody.
// (BindingManagerTests makes the same decisions without processes.)
import Foundation
import Glibc
import Interfaces
import LRPC
import NanoAdmin
import NanoKernel
import XCTest

final class BindingHijackTests: HostileKernelTestCase {
    func testRefusingOtherServersBindingsCutsOffOnlyTheHijacker() throws {
        // Honest imports of clock and name while the hostile refuses binding after binding.
        let importer = try kernel.connect()
        defer { importer.close() }
        let result = attackInBackground(AttackOrder("refuse-others-bindings"))
        var imported = 0
        for _ in 0..<50 {
            let c = try importer.importInterface(ClockInterface.name)
            c.callTimeoutSeconds = 10
            _ = try c.call(ClockInterface.now, Empty())
            _ = try importer.importInterface(NameInterface.name)
            imported += 2
        }
        XCTAssertEqual(imported, 100)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 15) { result() != nil })
        assertHostileCutOff(because: "refused a binding it was not offered")
        XCTAssertGreaterThanOrEqual(try kernel.domain("hostile").refusals, 1, "the attempt is counted against the sender")
        assertEveryoneElseIsFine()
    }

    func testAClientLeavingDuringABindCancelsItCleanly() throws {
        for _ in 0..<1 {
            guard case .failure(let error) = attack(AttackOrder("import-and-leave")) else { return XCTFail("the hostile did not leave") }
            XCTAssertEqual(error, .serverDied("hostile went away before returning"))
        }
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) { (try? self.kernel.domain("hostile").state) == "exited" })
        XCTAssertFalse(kernel.log.contains("disconnected domain 'clock'"), "clock was punished for the client's leaving")
        XCTAssertTrue(try kernel.status().domains.allSatisfy { $0.name == "hostile" || $0.kind == "operator" || $0.state == "ready" })
        assertEveryoneElseIsFine()
    }
}
