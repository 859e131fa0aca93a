// Issue 7, finding 8 (trusting a server-written word): when a server dies, the kernel
// fails the calls in flight to it from its own linkage records. A server that writes
// `done` into its call records without replying and then dies cannot leave its caller
// waiting: the caller gets serverDied, not a timeout.
import Foundation
import Glibc
import Interfaces
import LRPC
import NanoAdmin
import NanoKernel
import XCTest

final class ServerWrittenWordTests: HostileKernelTestCase {
    func testACallerOfAServerThatFakesDoneAndDiesIsFailedByTheKernel() throws {
        hostile.callTimeoutSeconds = 15
        let start = monotonicNanoseconds()
        guard case .failure(let error) = attack(AttackOrder("fake-done-and-die")) else { return XCTFail("the hostile returned") }
        XCTAssertEqual(error, .serverDied("hostile went away before returning"), "the caller was left to its own timeout")
        print("fake-done-and-die: the caller was failed after \(Double(monotonicNanoseconds() - start) / 1e6) ms")
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) { (try? self.kernel.domain("hostile").state) == "exited" })
        assertEveryoneElseIsFine()
    }
}
