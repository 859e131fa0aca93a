// Issue 7, finding 4 (no quotas): what one domain may make the kernel hold is bounded by
// the image's [quotas], with sane defaults. The requester gets an error naming the quota;
// the server is never the one that fails. Connections that never say hello are closed at
// the hello deadline, and no more than operator_connections exist at once.
import Foundation
import Glibc
import Interfaces
import LRPC
import NanoAdmin
import NanoKernel
import XCTest

final class QuotaTests: HostileKernelTestCase {
    override var imageExtra: String {
        "[quotas]\nbindings_per_interface = 4\noperator_connections = 8\npending_bind_seconds = 1"
    }

    func testAClientImportingOneInterfaceOverAndOverStopsAtItsQuota() throws {
        // The hostile already holds one clock binding; the quota allows four.
        guard case .success(let outcome) = attack(AttackOrder("import-flood", target: 30)) else { return XCTFail("attack call failed") }
        XCTAssertEqual(outcome.errno, EDQUOT, outcome.detail)
        XCTAssertTrue(outcome.detail.hasPrefix("imported 3 more"), outcome.detail)
        XCTAssertTrue(outcome.detail.contains("quota bindings_per_interface"), outcome.detail)
        XCTAssertEqual(try kernel.domain("hostile").state, "ready", "the requester is refused, not killed")
        assertEveryoneElseIsFine()
    }

    func testAnOperatorsImportsStopAtTheQuotaWithAnErrorNamingIt() throws {
        let client = try kernel.connect()
        defer { client.close() }
        var held: [ClientBinding] = []
        for _ in 0..<4 { held.append(try client.importInterface(ClockInterface.name)) }
        XCTAssertThrowsError(try client.importInterface(ClockInterface.name)) { error in
            XCTAssertTrue("\(error)".contains("quota bindings_per_interface"), "\(error)")
        }
        // Releasing one makes room again.
        held.removeLast()
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) { (try? client.importInterface(ClockInterface.name)) != nil })
        assertEveryoneElseIsFine()
    }

    func testAnOfferTheServerDoesNotAnswerExpires() throws {
        // The hostile server freezes; an import of its interface waits for its answer.
        // (Its crossing answer, had it thawed, is dropped quietly: BindingManagerTests.)
        let hostilePid = try kernel.domain("hostile").pid
        XCTAssertEqual(kill(hostilePid, SIGSTOP), 0)
        let client = try kernel.connect()
        defer { client.close() }
        let start = monotonicNanoseconds()
        XCTAssertThrowsError(try client.importInterface(HostileInterface.name, timeoutSeconds: 10)) { error in
            XCTAssertTrue("\(error)".contains("quota pending_bind_seconds"), "\(error)")
        }
        XCTAssertLessThan(Double(monotonicNanoseconds() - start) / 1e9, 9, "the offer did not expire before the client's own timeout")
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) { self.kernel.log.contains("withdrew binding") },
                      kernel.log.suffix(2000).description)
        // A slow server is not punished for being slow: it is still a ready domain.
        XCTAssertEqual(try kernel.domain("hostile").state, "ready")
        assertEveryoneElseIsFine()
    }

    func testSilentConnectionsAreClosedAtTheHelloDeadlineAndBoundedByTheQuota() throws {
        var silent: [ControlChannel] = []
        for _ in 0..<40 { if let c = try? ControlChannel.connect(path: kernel.socketPath) { silent.append(c) } }
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) { self.kernel.log.contains("quota operator_connections (8) reached") },
                      kernel.log.suffix(2000).description)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) { self.kernel.log.contains("did not say hello within 2 s") })
        // The kernel closed them: each silent end reads end-of-file.
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) {
            silent.allSatisfy { c in
                var p = pollfd(fd: c.fd.rawValue, events: Int16(POLLIN), revents: 0)
                return poll(&p, 1, 0) == 1
            }
        }, "a silent connection is still held open by the kernel")
        silent.removeAll()
        assertEveryoneElseIsFine()
    }
}
