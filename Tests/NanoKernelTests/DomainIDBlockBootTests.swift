// A root kernel refuses to boot when its block of domain ids holds a host user or group:
// a domain would own that user's files and share its per-user counters.
import Foundation
import Glibc
import XCTest

final class DomainIDBlockBootTests: XCTestCase {
    var kernel: KernelHarness!

    override func setUp() { kernel = KernelHarness() }
    override func tearDown() { kernel.shutdown() }

    func testABlockHoldingAHostUserIsRefused() throws {
        try XCTSkipUnless(geteuid() == 0, "only a root kernel maps its domains to the block")
        guard let daemon = getpwuid(1) else { throw XCTSkip("this host has no uid 1 to collide with") }
        let user = String(cString: daemon.pointee.pw_name)
        let image = kernel.writeImage("""
            [image]
            name = "ids"

            [kernel]
            domain_id_first = 1
            domain_id_count = 256

            [[service]]
            name = "name"
            executable = "nk-name"
            provides = ["name"]
            """)
        let (status, output) = try KernelHarness.run(
            [KernelHarness.nkctl, "boot", "--detach", "--image", image, "--socket", kernel.socketPath], timeout: 40)
        XCTAssertNotEqual(status, 0, output)
        XCTAssertTrue(output.contains("the domain id block 1...256 holds the host's user \(user) (uid 1)"), output)
    }
}
