// HostPathTests (issue 7, finding 10): a domain sees no host paths. Its root is an empty
// tmpfs holding only its executable and its grants, and its /proc is its own pid
// namespace's. stat needs no Landlock right, so before the domain had its own root it
// could stat /etc/shadow and /root and see every host process in /proc.
//
// The hostile service is granted /proc (read-only) here, so Landlock is not what hides
// the kernel's processes: only the domain's own /proc can.
import Foundation
import Glibc
import Interfaces
import LRPC
import XCTest

final class HostPathTests: HostileTestCase {
    /// The hostile's own grant, with a file it may read.
    var ownGrant: String { kernel.directory + "/hostile-data" }

    override func setUpWithError() throws {
        kernel = KernelHarness()
        try FileManager.default.createDirectory(atPath: ownGrant, withIntermediateDirectories: true)
        try Data("hostile's own data\n".utf8).write(to: URL(fileURLWithPath: ownGrant + "/mine.txt"))
        try bootHostileImage(hostileSandbox: """

            [service.sandbox]
            read_only = ["/proc", "\(ownGrant)"]
            """)
        try require(.namespace("mount"), .namespace("pid"))
        let sandbox = try hostileSandbox()
        XCTAssertTrue(sandbox["root"]?.hasPrefix("own") ?? false, "\(sandbox)")
    }

    func testEtcShadowDoesNotExistForADomain() {
        assertFails(AttackOrder("stat-path", path: "/etc/shadow"), errno: ENOENT)
    }

    func testRootsHomeDoesNotExistForADomain() {
        assertFails(AttackOrder("stat-path", path: "/root"), errno: ENOENT)
    }

    func testTheKernelsRuntimeFolderDoesNotExistForADomain() {
        assertFails(AttackOrder("stat-path", path: kernel.socketPath), errno: ENOENT)
        assertFails(AttackOrder("stat-path", path: grantDirectory), errno: ENOENT)
    }

    func testProcShowsOnlyTheDomainsOwnProcess() {
        assertFails(AttackOrder("list-proc", target: Int64(kernelPid)), errno: ESRCH, detail: "only its own process (1)")
    }

    /// The grant is where the image says, and readable: the new root hides, it does not break.
    func testItsOwnGrantIsStillThere() throws {
        let outcome = try hostile.call(HostileInterface.attack, AttackOrder("open-path", path: ownGrant + "/mine.txt"))
        XCTAssertEqual(outcome.errno, 0, outcome.detail)
        assertFails(AttackOrder("create-path", path: ownGrant + "/planted"))  // read-only: EROFS or EACCES
        XCTAssertFalse(FileManager.default.fileExists(atPath: ownGrant + "/planted"))
    }
}
