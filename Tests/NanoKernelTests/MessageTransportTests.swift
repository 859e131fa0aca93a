// The conventional message transport: the same interfaces, calls relayed through the
// kernel over Unix sockets, validated there exactly like a call trap.
import Foundation
import Interfaces
import LRPC
import NanoAdmin
import NanoKernel
import XCTest

final class MessageTransportTests: KernelTestCase {
    func testCallsTravelAsMessagesThroughTheKernel() throws {
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let bench = try runtime.importInterface(BenchInterface.name, transport: .message)
        bench.callTimeoutSeconds = 10
        XCTAssertEqual(bench.transport, .message)
        XCTAssertNil(bench.astacks, "a message binding has no A-stacks")
        let before = try kernel.domain("bench").callsServed
        XCTAssertEqual(try bench.call(BenchInterface.add, AddArguments(20, 22)), 42)
        let payload = Array("through the kernel".utf8)
        XCTAssertEqual(try bench.call(BenchInterface.bigInOut, BoundedBytes<200>(payload)).bytes, payload)
        XCTAssertEqual(try kernel.domain("bench").callsServed, before + 2)
        let listed = try kernel.status()
        XCTAssertTrue(listed.domains.contains { $0.name == "bench" })
        let bindings = try JSONDecoder().decode([BindingReport].self, from: Data(try runtime.admin("bindings").utf8))
        XCTAssertEqual(bindings.first { $0.binding == bench.bindingObject.index }?.transport, "message")
    }

    func testTheKernelValidatesEveryMessage() throws {
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let bench = try runtime.importInterface(BenchInterface.name, transport: .message)
        bench.callTimeoutSeconds = 10
        let served = try kernel.domain("bench").callsServed
        var forged = bench.bindingObject
        forged.secret &+= 1
        XCTAssertThrowsError(try bench.trap(procedureID: 0, slot: 0, bindingObject: forged)) {
            XCTAssertEqual($0 as? CallError, .refused(.forgedBindingObject))
        }
        XCTAssertThrowsError(try bench.trap(procedureID: 77, slot: 0, bindingObject: bench.bindingObject)) {
            XCTAssertEqual($0 as? CallError, .refused(.unknownProcedure))
        }
        XCTAssertEqual(try kernel.domain("bench").callsServed, served, "the server saw a refused message")
        XCTAssertThrowsError(try bench.call(BenchInterface.bigIn, BoundedBytes<200>(Array(repeating: 0, count: 300)))) {
            guard case CallError.fieldTooLarge = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(try bench.call(BenchInterface.add, AddArguments(1, 1)), 2, "the binding still works")
    }

    func testAMessageCallInFlightFailsWhenTheServerDies() throws {
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let bench = try runtime.importInterface(BenchInterface.name, transport: .message)
        bench.callTimeoutSeconds = 10
        let victim = try kernel.domain("bench")
        let failed = DispatchSemaphore(value: 0)
        var outcome: Error?
        Thread {
            do { try bench.call(BenchInterface.hold, 5_000) } catch { outcome = error }
            failed.signal()
        }.start()
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) { (try? self.kernel.domain("bench").callsServed) ?? 0 > victim.callsServed })
        kill(victim.pid, SIGKILL)
        XCTAssertEqual(failed.wait(timeout: .now() + 10), .success)
        guard case .serverDied = outcome as? CallError else { return XCTFail("expected serverDied, got \(String(describing: outcome))") }
    }
}
