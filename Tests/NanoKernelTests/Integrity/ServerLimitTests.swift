// Issue 7, finding 4, the server's side: a server never fails because of a client. With
// only 16 descriptors of its own, bench takes 40 bindings from one client (a mapped
// binding costs it no descriptor); whatever it cannot take (its own thread limit) it
// refuses with a reason, and it keeps serving every binding it took.
import Foundation
import Glibc
import Interfaces
import LRPC
import NanoAdmin
import NanoKernel
import XCTest

final class ServerLimitTests: HostileKernelTestCase {
    override var imageExtra: String { "[quotas]\nbindings_per_interface = 64\nbindings_per_client = 128" }
    override var benchSandboxExtra: String { "open_files = 16" }

    func testAServerWithFewDescriptorsTakesOrRefusesBindingsAndNeverExits() throws {
        let client = try kernel.connect()
        defer { client.close() }
        var held: [ClientBinding] = []
        var refusals: [String] = []
        for _ in 0..<40 {
            do { held.append(try client.importInterface(BenchInterface.name)) } catch {
                refusals.append("\(error)")
            }
        }
        print("bench with open_files = 16: \(held.count) bindings taken, \(refusals.count) refused")
        for refusal in refusals {
            XCTAssertTrue(refusal.contains("refused the binding"), "not a refusal by the server: \(refusal)")
        }
        XCTAssertGreaterThanOrEqual(held.count, 20, "a mapped binding should cost the server no descriptor")
        for binding in held {
            binding.callTimeoutSeconds = 10
            XCTAssertEqual(try binding.call(BenchInterface.add, AddArguments(20, 22)), 42)
        }
        assertEveryoneElseIsFine()
    }
}
