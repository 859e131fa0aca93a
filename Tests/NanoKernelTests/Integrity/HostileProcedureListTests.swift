// HostileProcedureListTests (issue 7, finding 11): a procedure descriptor list is hostile
// input wherever it is read, by the kernel at export and by nkctl at import. A field
// capacity of 2^63-1 used to crash nkctl with an integer overflow; now the layout is
// refused where it is parsed, and a failed foreground boot exits non-zero.
import Foundation
import Glibc
import Interfaces
@testable import LRPC
import XCTest

final class HostileProcedureListTests: HostileTestCase {
    static let huge = ProcedureDescriptor(
        id: 9, name: "huge", astackSize: 64, simultaneousCalls: 1,
        arguments: FieldLayout([Field("x", .text, capacity: Int.max)]), results: .empty)

    func testAnExportWithAHugeFieldCapacityCutsTheDomainOff() throws {
        assertDisconnected(AttackOrder("export-huge-layout"), because: "wrote garbage on its control channel")
        XCTAssertTrue(kernel.log.contains("has a malformed layout"), kernel.log)
        // nkctl still works against the kernel.
        let status = try KernelHarness.run([KernelHarness.nkctl, "status", "--socket", kernel.socketPath], timeout: 20)
        XCTAssertEqual(status.status, 0, status.output)
    }

    /// What nkctl decodes from the kernel when it imports: the same bound holds there.
    func testAnImportReplyWithAHugeLayoutIsRefusedNotACrash() {
        let interface = InterfaceDescriptor(name: "hostile", procedures: [Self.huge])
        let reply = ControlMessage.imported(request: 1, binding: BindingObject(index: 0, generation: 1, secret: 2),
                                            geometry: AStackGeometry(slotCount: 1, payloadCapacity: 64),
                                            interface: interface, transport: .lrpc, callDeadlineMilliseconds: 1_000)
        XCTAssertThrowsError(try ControlMessage.decode(reply.encoded())) {
            XCTAssertTrue("\($0)".contains("malformed layout"), "\($0)")
        }
        for signature in ["x:text[9223372036854775807]", "x:bytes[1048577]", "x:text[-1]"] {
            XCTAssertNil(FieldLayout(signature: signature), signature)
        }
        XCTAssertNil(FieldLayout(signature: (0..<65).map { "f\($0):i32" }.joined(separator: ",")))
        XCTAssertNotNil(FieldLayout(signature: "x:bytes[1048576]"))
    }

    /// A layout that does not fit the A-stack it declares is refused, and a reader given
    /// a capacity near Int.max reports malformed contents instead of overflowing.
    func testSizesAreCheckedWithoutOverflow() {
        let lying = ProcedureDescriptor(id: 1, name: "lying", astackSize: 8, simultaneousCalls: 1,
                                        arguments: FieldLayout([Field("x", .text, capacity: 64)]), results: .empty)
        let export = ControlMessage.export(InterfaceDescriptor(name: "hostile", procedures: [lying]))
        XCTAssertThrowsError(try ControlMessage.decode(export.encoded()))
        let bytes = [UInt8](repeating: 0xff, count: 16)
        let refused = bytes.withUnsafeBytes { raw -> Bool in
            var reader = AStackReader(raw)
            do {
                _ = try reader.getBytes(capacity: Int.max, field: "x")
                return false
            } catch {
                return true
            }
        }
        XCTAssertTrue(refused, "a capacity near Int.max must be refused")
    }

    func testAFailedForegroundBootExitsNonZero() throws {
        let image = kernel.writeImage("""
            [image]
            name = "ghost"

            [[service]]
            name = "ghost"
            executable = "nk-ghost"
            provides = ["ghost"]
            """, name: "ghost.toml")
        let boot = try KernelHarness.run([KernelHarness.nkctl, "boot", "--image", image, "--socket", kernel.directory + "/ghost.sock"],
                                         timeout: 40)
        XCTAssertEqual(boot.status, 1, boot.output)
        XCTAssertTrue(boot.output.contains("nkctl: boot failed: service 'ghost'"), boot.output)
        assertEveryoneElseIsFine()
    }
}
