// An image that names an executable the kernel cannot run as a domain: the boot fails
// with the service, the path and the cause, before any sandbox step.
import Foundation
import XCTest

final class ServiceExecutableTests: XCTestCase {
    var kernel: KernelHarness!

    override func setUp() { kernel = KernelHarness() }
    override func tearDown() { kernel.shutdown() }

    private func bootFails(executable: String) throws -> String {
        let image = kernel.writeImage("""
            [image]
            name = "executables"

            [[service]]
            name = "name"
            executable = "nk-name"
            provides = ["name"]

            [[service]]
            name = "odd"
            executable = "\(executable)"
            provides = ["odd"]
            """)
        let (status, output) = try KernelHarness.run(
            [KernelHarness.nkctl, "boot", "--detach", "--image", image, "--socket", kernel.socketPath], timeout: 40)
        XCTAssertNotEqual(status, 0, output)
        return output
    }

    func testADynamicallyLinkedExecutableIsNamedWithItsLoader() throws {
        let output = try bootFails(executable: "/bin/true")
        XCTAssertTrue(output.contains("service 'odd': executable /bin/true is dynamically linked (it asks for the loader /lib"), output)
        XCTAssertTrue(output.contains("-static-executable"), output)
    }

    func testAMissingRelativeExecutableIsNamedAtItsPathBesideTheImage() throws {
        let output = try bootFails(executable: "build/odd-service")
        XCTAssertTrue(output.contains("service 'odd': executable \(kernel.directory)/build/odd-service does not exist"), output)
    }

    func testAScriptIsRefusedAsNotAnELFProgram() throws {
        let script = kernel.directory + "/script.sh"
        FileManager.default.createFile(atPath: script, contents: Data("#!/bin/sh\necho hi\n".utf8),
                                       attributes: [.posixPermissions: 0o755])
        let output = try bootFails(executable: script)
        XCTAssertTrue(output.contains("service 'odd': executable \(script) is not an ELF program"), output)
    }
}
