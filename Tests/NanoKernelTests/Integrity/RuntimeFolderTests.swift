// RuntimeFolderTests (issue 7, finding 7): the folder holding the control socket and the
// log is the kernel's own. Created 0700; an existing one owned by someone else, or
// writable by group or others, is refused with a clear error; the log is never opened
// through a symbolic link; and nkctl talks only to a kernel of its own user or root.
import Foundation
import Glibc
import LRPC
import NanoKernel
import SystemPackage
import XCTest

final class RuntimeFolderTests: XCTestCase {
    var kernel: KernelHarness!
    /// A runtime folder that does not exist yet, inside the test's own directory.
    var folder: String { kernel.directory + "/run" }
    var socket: String { folder + "/kernel.sock" }

    override func setUp() {
        kernel = KernelHarness()
    }

    override func tearDown() {
        _ = try? KernelHarness.run([KernelHarness.nkctl, "shutdown", "--socket", socket], timeout: 20)
        try? FileManager.default.removeItem(atPath: kernel.directory)
    }

    func testTheFolderIsCreatedPrivateAndTheLogOwnerOnly() throws {
        let boot = try bootDetached()
        XCTAssertEqual(boot.status, 0, boot.output)
        XCTAssertEqual(try mode(of: folder), 0o700)
        XCTAssertEqual(try mode(of: socket + ".log"), 0o600)
        XCTAssertEqual(try KernelHarness.run([KernelHarness.nkctl, "status", "--socket", socket], timeout: 20).status, 0)
    }

    func testAFolderOthersCanWriteInIsRefused() throws {
        for mode: mode_t in [0o777, 0o1777, 0o770] {
            try makeFolder(mode: mode)
            assertRefused(.writableByOthers(folder: folder, mode: S_IFDIR | mode), wording: "others can write in it")
            try FileManager.default.removeItem(atPath: folder)
        }
    }

    func testAFolderOfAnotherUserIsRefused() throws {
        try XCTSkipUnless(geteuid() == 0, "only root can give a folder to another user")
        try makeFolder(mode: 0o700)
        XCTAssertEqual(chown(folder, 65534, 65534), 0)
        assertRefused(.ownedByAnotherUser(folder: folder, owner: 65534), wording: "belongs to uid 65534")
    }

    func testASymbolicLinkInPlaceOfTheFolderIsRefused() throws {
        let elsewhere = kernel.directory + "/elsewhere"
        XCTAssertEqual(mkdir(elsewhere, 0o700), 0)
        XCTAssertEqual(symlink(elsewhere, folder), 0)
        assertRefused(.notAFolder(folder: folder), wording: "not a directory")
    }

    func testTheLogIsNotOpenedThroughASymbolicLink() throws {
        try makeFolder(mode: 0o700)
        let victim = kernel.directory + "/victim"
        FileManager.default.createFile(atPath: victim, contents: Data("untouched\n".utf8))
        XCTAssertEqual(symlink(victim, socket + ".log"), 0)
        XCTAssertThrowsError(try RuntimeFolder.openLog(socket + ".log")) {
            XCTAssertEqual($0 as? RuntimeFolderError,
                           .system(operation: "open", path: socket + ".log", errno: .tooManySymbolicLinkLevels))
        }
        let boot = try bootDetached()
        XCTAssertEqual(boot.status, 1, boot.output)
        XCTAssertTrue(boot.output.contains("is a symbolic link: refusing to follow it"), boot.output)
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "untouched\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: socket), "a kernel started anyway")
    }

    /// Another user who made the folder first listens on the socket path: nkctl must
    /// refuse to talk to it before sending a byte.
    func testNkctlRefusesAKernelOfAnotherUser() throws {
        try XCTSkipUnless(geteuid() == 0, "only root can listen as another user here")
        try makeFolder(mode: 0o700)
        XCTAssertEqual(chown(folder, 65534, 65534), 0)
        // SO_PEERCRED reports the credentials the listener had when it called listen().
        XCTAssertEqual(seteuid(65534), 0)
        let listener = try? UnixSocket.make(path: socket, operation: "listen on") { bind($0, $1, $2) == 0 && listen($0, 4) == 0 ? 0 : -1 }
        XCTAssertEqual(seteuid(0), 0)
        guard let listener else { return XCTFail("cannot listen as uid 65534") }
        defer { try? listener.close() }

        XCTAssertThrowsError(try DomainRuntime.connect(socketPath: socket, name: "test")) { error in
            XCTAssertTrue(error is ControlError, "\(error)")
            XCTAssertTrue("\(error)".contains("runs as uid 65534"), "\(error)")
        }
        let status = try KernelHarness.run([KernelHarness.nkctl, "status", "--socket", socket], timeout: 20)
        XCTAssertEqual(status.status, 1, status.output)
        XCTAssertTrue(status.output.contains("runs as uid 65534, neither you (uid 0) nor root: not your kernel"), status.output)
        // Nothing was sent: a fake kernel learns nothing from nkctl.
        let connection = accept(listener.rawValue, nil, nil)
        if connection >= 0 {
            var byte: UInt8 = 0
            XCTAssertEqual(recv(connection, &byte, 1, Int32(MSG_DONTWAIT)), 0, "nkctl sent the fake kernel a message")
            close(connection)
        }
    }

    // MARK: helpers

    private func bootDetached() throws -> (status: Int32, output: String) {
        let image = KernelHarness.repositoryRoot + "/images/default.toml"
        return try KernelHarness.run([KernelHarness.nkctl, "boot", "--detach", "--image", image, "--socket", socket], timeout: 40)
    }

    private func makeFolder(mode: mode_t) throws {
        guard mkdir(folder, 0o700) == 0, chmod(folder, mode) == 0 else { throw SystemError("mkdir \(folder)") }
    }

    private func mode(of path: String) throws -> mode_t {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw SystemError("lstat \(path)") }
        return info.st_mode & 0o7777
    }

    /// Refused in the kernel's own check (typed), and by `nkctl boot` (exit 1, a clear
    /// message, no kernel started).
    private func assertRefused(_ expected: RuntimeFolderError, wording: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try RuntimeFolder.prepare(forSocket: socket), file: file, line: line) {
            XCTAssertEqual($0 as? RuntimeFolderError, expected, file: file, line: line)
        }
        guard let boot = try? bootDetached() else { return XCTFail("cannot run nkctl", file: file, line: line) }
        XCTAssertEqual(boot.status, 1, boot.output, file: file, line: line)
        XCTAssertTrue(boot.output.contains(wording), boot.output, file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: socket), "a kernel started anyway", file: file, line: line)
        let foreground = try? KernelHarness.run([KernelHarness.nkctl, "boot", "--image",
                                                 KernelHarness.repositoryRoot + "/images/default.toml", "--socket", socket],
                                                timeout: 40)
        XCTAssertEqual(foreground?.status, 1, foreground?.output ?? "", file: file, line: line)
        XCTAssertTrue(foreground?.output.contains(wording) ?? false, foreground?.output ?? "", file: file, line: line)
    }
}
