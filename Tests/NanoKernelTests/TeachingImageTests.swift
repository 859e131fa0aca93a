// The teaching image boots, and its demonstration service shows every refusal on
// request, the busy slot every time.
import Foundation
import Interfaces
import LRPC
import NanoAdmin
import NanoKernel
import XCTest

final class TeachingImageTests: KernelTestCase {
    override var bootsDefaultImage: Bool { false }

    func testTheDemonstrationShowsEveryRefusalOnRequest() throws {
        try kernel.boot(image: KernelHarness.repositoryRoot + "/images/teaching.toml")
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let demo = try runtime.importInterface(DemoInterface.name)
        demo.callTimeoutSeconds = 20
        let expected: [(Procedure<Empty, DemoOutcome>, Refusal)] = [
            (DemoInterface.forge, .forgedBindingObject), (DemoInterface.replay, .staleBindingObject),
            (DemoInterface.swap, .foreignBindingObject), (DemoInterface.badProcedure, .unknownProcedure),
            (DemoInterface.badSlot, .slotOutOfRange),
        ]
        for (procedure, refusal) in expected {
            let outcome = try demo.call(procedure, Empty())
            XCTAssertEqual(outcome.refusal, refusal.rawValue, "\(procedure.name): \(outcome.report)")
        }
        for _ in 0..<5 {
            let outcome = try demo.call(DemoInterface.busy, Empty())
            XCTAssertEqual(outcome.refusal, Refusal.slotInUse.rawValue, outcome.report)
        }
        XCTAssertEqual(try kernel.domain("demo").refusals, 10)
        XCTAssertEqual(try kernel.domain("accomplice").state, "ready")

        _ = try demo.call(DemoInterface.hold, 5)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) {
            let bindings = (try? JSONDecoder().decode([BindingReport].self, from: Data(runtime.admin("bindings").utf8))) ?? []
            return bindings.contains { $0.client == "demo" && $0.interface == "accomplice" && $0.astacksInUse == 1 }
        }, "a held slot shows in nkctl bindings")

        XCTAssertThrowsError(try runtime.importInterface(AccompliceInterface.name), "the image does not let nkctl import accomplice")
    }
}
