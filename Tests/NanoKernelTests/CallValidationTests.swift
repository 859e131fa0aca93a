// A client that forges, replays and swaps binding objects, names procedures that do
// not exist and slots that are not its own: the kernel refuses every trap, the server
// never sees one, and the kernel keeps serving honest calls.
import Foundation
import Interfaces
import LRPC
import NanoKernel
import XCTest

final class CallValidationTests: KernelTestCase {
    private func assertRefused(_ expected: Refusal, file: StaticString = #filePath, line: UInt = #line,
                               _ trap: () throws -> Void) {
        XCTAssertThrowsError(try trap(), file: file, line: line) { error in
            XCTAssertEqual(error as? CallError, .refused(expected), file: file, line: line)
        }
    }

    func testForgedStaleForeignAndSwappedBindingObjectsAreRefused() throws {
        let attacker = try kernel.connect()
        let victim = try kernel.connect()
        defer { attacker.close(); victim.close() }
        let bench = try attacker.importInterface(BenchInterface.name)
        let clock = try attacker.importInterface(ClockInterface.name)
        let victimBench = try victim.importInterface(BenchInterface.name)
        [bench, clock, victimBench].forEach { $0.callTimeoutSeconds = 10 }

        // A binding that is then revoked: its client leaves.
        let leaver = try kernel.connect()
        let stale = try leaver.importInterface(BenchInterface.name).bindingObject
        leaver.close()
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) {
            (try? self.kernel.status().domains.contains { $0.id == leaver.domainID }) == false
        })

        let served = try kernel.domain("bench").callsServed
        let real = bench.bindingObject
        var forged = real
        forged.secret ^= 0x5a5a_5a5a
        assertRefused(.forgedBindingObject) { try bench.trap(procedureID: 0, slot: 0, bindingObject: forged) }
        var invented = real
        invented.index = 9_999
        assertRefused(.forgedBindingObject) { try bench.trap(procedureID: 0, slot: 0, bindingObject: invented) }
        assertRefused(.staleBindingObject) { try bench.trap(procedureID: 0, slot: 0, bindingObject: stale) }
        assertRefused(.foreignBindingObject) {
            try bench.trap(procedureID: 0, slot: 0, bindingObject: victimBench.bindingObject)
        }
        // Swapped: the clock binding object with a bench-only procedure id.
        assertRefused(.unknownProcedure) {
            try bench.trap(procedureID: BenchInterface.bigInOut.id, slot: 0, bindingObject: clock.bindingObject)
        }
        assertRefused(.unknownProcedure) { try bench.trap(procedureID: 99, slot: 0, bindingObject: real) }
        assertRefused(.unknownProcedure) { try bench.trap(procedureID: UInt32.max, slot: 0, bindingObject: real) }
        assertRefused(.slotOutOfRange) { try bench.trap(procedureID: 0, slot: 8, bindingObject: real) }
        assertRefused(.slotOutOfRange) { try bench.trap(procedureID: 0, slot: 1 << 20, bindingObject: real) }

        XCTAssertEqual(try kernel.domain("bench").callsServed, served, "the server saw a refused call")
        XCTAssertEqual(try kernel.domain(attackerName(attacker)).refusals, 9)
        XCTAssertTrue(kernel.log.contains("refused call from domain '\(try attackerName(attacker))'"))
        // The kernel and the server still serve honest calls, the victim's included.
        XCTAssertEqual(try bench.call(BenchInterface.add, AddArguments(1, 2)), 3)
        XCTAssertEqual(try victimBench.call(BenchInterface.add, AddArguments(3, 4)), 7)
    }

    func testATrapOnASlotWithACallInFlightIsRefused() throws {
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let bench = try runtime.importInterface(BenchInterface.name)
        bench.callTimeoutSeconds = 10
        let holding = DispatchSemaphore(value: 0)
        Thread {
            _ = try? bench.call(BenchInterface.hold, 1_000)  // takes slot 0, the lowest free one
            holding.signal()
        }.start()
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) { (try? self.kernel.domain("bench").callsServed) ?? 0 >= 1 })
        let served = try kernel.domain("bench").callsServed
        assertRefused(.slotInUse) { try bench.trap(procedureID: 0, slot: 0, bindingObject: bench.bindingObject) }
        XCTAssertEqual(try kernel.domain("bench").callsServed, served)
        XCTAssertEqual(holding.wait(timeout: .now() + 10), .success)
        XCTAssertNoThrow(try bench.trap(procedureID: 0, slot: 0, bindingObject: bench.bindingObject),
                         "the slot is free again once the server returned")
    }

    private func attackerName(_ runtime: DomainRuntime) throws -> String {
        runtime.domainName
    }
}
