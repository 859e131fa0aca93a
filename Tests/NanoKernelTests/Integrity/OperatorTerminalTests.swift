// OperatorTerminalTests (issue 7, finding 6): domains get nothing of the operator's.
// The kernel runs in the foreground, as `nkctl boot` does at a terminal, with a terminal
// (a pseudo-terminal holding a line the operator typed) as its fd 0. A domain's fds 0-2
// must be /dev/null and the kernel's pipe, never that terminal; and nkctl must show what
// a service returns (results, errors) with every control character made visible.
import Foundation
import Glibc
import Interfaces
import LRPC
import XCTest

final class OperatorTerminalTests: HostileTestCase {
    private var terminal: Int32 = -1
    private var terminalSide: Int32 = -1

    override func setUpWithError() throws {
        kernel = KernelHarness()
        // posix_openpt and friends are not imported into Swift: the ioctls they wrap.
        let unlock: UInt = 0x4004_5431  // TIOCSPTLCK
        let peer: UInt = 0x5441         // TIOCGPTPEER: the terminal side, opened for us
        terminal = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        var locked: Int32 = 0
        guard terminal >= 0, ioctl(terminal, unlock, &locked) == 0 else {
            throw ControlError("no pseudo-terminal: \(String(cString: strerror(errno)))")
        }
        terminalSide = ioctl(terminal, peer, O_RDWR | O_NOCTTY)
        guard terminalSide >= 0 else { throw ControlError("cannot open the terminal side: \(String(cString: strerror(errno)))") }
        let typed = "the operator's password\n"
        XCTAssertEqual(write(terminal, typed, typed.utf8.count), typed.utf8.count)
        XCTAssertEqual(isatty(terminalSide), 1, "the kernel's fd 0 must be a terminal, or this test shows nothing")
        try bootHostileImage(foregroundInput: terminalSide)
    }

    override func tearDown() {
        super.tearDown()
        // A foreground kernel that was shut down cleanly exits 0 (a failed boot exits 1:
        // HostileProcedureListTests).
        XCTAssertEqual(kernel.foregroundExit, 0, kernel.log)
        close(terminalSide)
        close(terminal)
    }

    func testADomainGetsNoneOfTheOperatorsTerminal() {
        assertFails(AttackOrder("operator-terminal"), errno: ENOTTY, detail: "fd 0 is /dev/null")
        // The line the operator typed is still there, unread by any domain.
        var pending: Int32 = 0
        XCTAssertEqual(ioctl(terminalSide, UInt(FIONREAD), &pending), 0)
        XCTAssertEqual(pending, Int32("the operator's password\n".utf8.count))
    }

    func testResultsAreShownWithControlCharactersMadeVisible() throws {
        let (status, output) = try nkctl("call", "hostile.attack", "terminal-escapes", "0", "x", "0", "0", "0")
        XCTAssertEqual(status, 0, output)
        assertNeutralised(output)
        XCTAssertTrue(output.contains("detail: \\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\u{202e}\\nnkctl: kernel stopped"), output)
        assertEveryoneElseIsFine()
    }

    func testErrorsAreShownWithControlCharactersMadeVisible() throws {
        let (status, output) = try nkctl("call", "hostile.attack", "terminal-escapes-error", "0", "x", "0", "0", "0")
        XCTAssertEqual(status, 1, output)
        assertNeutralised(output)
        XCTAssertTrue(output.contains("\\x1b]0;owned"), output)
        assertEveryoneElseIsFine()
    }

    func testJSONResultsStayValidAndInert() throws {
        let (status, output) = try nkctl("call", "hostile.attack", "terminal-escapes", "0", "x", "0", "0", "0", "--json")
        XCTAssertEqual(status, 0, output)
        assertNeutralised(output)
        let decoded = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        XCTAssertEqual(decoded?["detail"] as? String,
                       "\u{1b}]0;owned\u{07}\u{1b}[2J\u{9b}31m\u{202e}\nnkctl: kernel stopped",
                       "the JSON escapes carry the exact text")
    }

    /// The status table shows what the kernel reports about a domain, which quotes the
    /// domain (here the name of a procedure it exported, refused with escape sequences).
    func testTheStatusTableShowsADomainsWordsInert() throws {
        assertDisconnected(AttackOrder("export-huge-layout"), because: "wrote garbage on its control channel")
        let (status, output) = try nkctl("status")
        XCTAssertEqual(status, 0, output)
        assertNeutralised(output)
        XCTAssertTrue(output.contains("hostile"), output)
        let (jsonStatus, json) = try nkctl("status", "--json")
        XCTAssertEqual(jsonStatus, 0, json)
        assertNeutralised(json)
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(json.utf8)))
    }

    // MARK: helpers

    private func nkctl(_ command: String, _ arguments: String...) throws -> (Int32, String) {
        try KernelHarness.run([KernelHarness.nkctl, command, "--socket", kernel.socketPath] + arguments, timeout: 20)
    }

    /// No byte a terminal would obey, and no line nkctl did not write.
    private func assertNeutralised(_ output: String, file: StaticString = #filePath, line: UInt = #line) {
        let obeyed = output.unicodeScalars.filter {
            ($0.value < 0x20 && $0 != "\n") || (0x7f...0x9f).contains($0.value) || (0x202a...0x202e).contains($0.value)
        }
        XCTAssertTrue(obeyed.isEmpty, "raw control characters reached the terminal: \(obeyed.map(\.value))", file: file, line: line)
        XCTAssertFalse(output.split(separator: "\n").contains { $0.hasPrefix("nkctl: kernel stopped") },
                       "a service forged a line of nkctl's: \(output)", file: file, line: line)
    }
}
