// `nkctl boot --learn SERVICE`: the service's filter records the syscalls it would have
// stopped, lets them run, and the kernel prints the image lines that would allow them.
import Foundation
import Interfaces
import LRPC
import NanoAdmin
import XCTest

final class SandboxLearningTests: XCTestCase {
    var kernel: KernelHarness!

    override func setUp() { kernel = KernelHarness() }
    override func tearDown() { kernel.shutdown() }

    private func bootHostile(learning: [String]) throws {
        try kernel.boot(image: hostileImage(), arguments: learning.flatMap { ["--learn", $0] })
    }

    private func hostileImage() -> String {
        kernel.writeImage("""
            [image]
            name = "learning"

            [operator]
            imports = ["name", "hostile"]

            \(KernelHarness.coreServices())

            [[service]]
            name = "hostile"
            executable = "nk-hostile"
            provides = ["hostile"]
            imports = ["clock", "name"]
            restart = "never"
            """)
    }

    func testALearningServiceKeepsRunningAndTheKernelPrintsTheLinesItNeeds() throws {
        try bootHostile(learning: ["hostile"])
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let hostile = try runtime.importInterface(HostileInterface.name)
        hostile.callTimeoutSeconds = 20
        // Without --learn this stops the domain (HostileServiceTests.testAnInternetSocketStopsTheDomain).
        _ = try hostile.call(HostileInterface.attack, AttackOrder("socket-inet"))
        _ = try hostile.call(HostileInterface.attack, AttackOrder("socket-inet"))
        XCTAssertEqual(try hostile.call(HostileInterface.ping, Empty()), 1, "the domain still serves")
        let report = try kernel.domain("hostile")
        XCTAssertEqual(report.state, "ready")
        XCTAssertTrue(report.lastEvent.contains("learning: its filter would have stopped socket"), report.lastEvent)
        XCTAssertNotNil(report.sandbox["learning"])
        let log = kernel.log
        XCTAssertTrue(log.contains("hostile: learn: socket(AF_INET, SOCK_STREAM, 0) would have stopped it: socket is not in its syscall allow-list"), log)
        XCTAssertTrue(log.contains("hostile: learn: [service.sandbox] extra_syscalls = [\"socket\"]"), log)
        XCTAssertEqual(log.components(separatedBy: "extra_syscalls = [\"socket\"]").count, 2, "one report per syscall")
    }

    func testLearningAServiceTheImageDoesNotHaveIsRefused() throws {
        let (status, output) = try KernelHarness.run(
            [KernelHarness.nkctl, "boot", "--detach", "--image", hostileImage(), "--socket", kernel.socketPath,
             "--learn", "nosuch"], timeout: 40)
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(output.contains("--learn nosuch: the image has no service 'nosuch' (services: name, clock, bench, hostile)"), output)
    }
}
