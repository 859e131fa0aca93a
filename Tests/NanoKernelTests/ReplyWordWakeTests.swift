// A call of the client stub sleeps on its A-stack slot's reply word alone (one futex);
// the kernel writes refusals and failures into the trap cell instead. These tests show
// that the end the kernel gives a trap still wakes its caller at once: the client's
// kernel check (its only other way to notice) is lengthened to a minute, so a call that
// ends within seconds was woken: by the revocation notice (a server's death), or by the
// cell (a raw trap, which always waits on both words).
import Foundation
import Interfaces
@testable import LRPC
import NanoKernel
import XCTest

final class ReplyWordWakeTests: KernelTestCase {
    private static let minute: UInt64 = 60_000_000_000

    func testACallAsleepOnItsReplyWordFailsAtOnceWhenItsServerDies() throws {
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let bench = try runtime.importInterface(BenchInterface.name)
        bench.callTimeoutSeconds = 60
        bench.kernelCheckNanoseconds = Self.minute
        let outcome = Outcome()
        Thread { outcome.set(Result { _ = try bench.call(BenchInterface.hold, 9_000) }) }.start()
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) { (try? self.kernel.domain("bench").callsServed) ?? 0 >= 1 },
                      "the hold never reached bench")
        let killed = try KernelHarness.run([KernelHarness.nkctl, "kill", "bench", "--socket", kernel.socketPath], timeout: 30)
        XCTAssertEqual(killed.status, 0, killed.output)
        // Within the 9 s hold: ended by the death, neither by a return nor a kernel check.
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 8) { outcome.result != nil }, "the call in flight was not woken\n\(kernel.log)")
        guard case .failure(let error)? = outcome.result, case .serverDied = error as? CallError else {
            return XCTFail("expected serverDied, got \(String(describing: outcome.result))")
        }
    }

    func testARawTrapOnASlotInUseIsRefusedWhileTheCallOnItRuns() throws {
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let bench = try runtime.importInterface(BenchInterface.name)
        bench.callTimeoutSeconds = 60
        bench.kernelCheckNanoseconds = Self.minute
        let holding = DispatchSemaphore(value: 0)
        Thread {
            _ = try? bench.call(BenchInterface.hold, 6_000)  // takes slot 0, the lowest free one
            holding.signal()
        }.start()
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) { (try? self.kernel.domain("bench").callsServed) ?? 0 >= 1 })
        // Slot 0's reply word stays pending for the hold: only the cell can end this trap.
        XCTAssertThrowsError(try bench.trap(procedureID: 0, slot: 0, bindingObject: bench.bindingObject)) { error in
            XCTAssertEqual(error as? CallError, .refused(.slotInUse))
        }
        XCTAssertEqual(holding.wait(timeout: .now()), .timedOut, "the refusal came before the hold returned")
        // (The raw trap reset slot 0's reply and waiting words as it ended: the holding
        // call, its own domain's, learns of its return only at its kernel check.)
    }
}
