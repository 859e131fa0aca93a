// Issue 7, finding 5 (strings from domains are trusted): every string a domain sends is
// bounded and made printable before the kernel logs, stores, shows or sends it. A newline
// cannot forge a kernel log line, 64 KiB names cannot grow `status`, refused requests are
// logged at a bounded rate, and a procedure name that is not printable is refused.
import Foundation
import Glibc
import Interfaces
import LRPC
import NanoAdmin
import NanoKernel
import XCTest

final class DomainStringTests: HostileKernelTestCase {
    func testHostileNamesCannotForgeLogLinesOrGrowReplies() throws {
        guard case .success(let outcome) = attack(AttackOrder("hostile-strings")) else { return XCTFail("attack call failed") }
        XCTAssertEqual(outcome.errno, 0, outcome.detail)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) { self.kernel.log.contains("refused import of 'x\\u{a}[0.000001] kernel: forged by hostile'") },
                      kernel.log.suffix(2000).description)
        let lines = kernel.log.split(separator: "\n")
        XCTAssertFalse(lines.contains { $0.hasPrefix("[0.000001] kernel: forged") }, "a domain forged a kernel log line")
        XCTAssertFalse(lines.contains { $0.count > 2_000 }, "a log line grew with a domain's string")
        XCTAssertFalse(kernel.log.contains("\u{1b}"), "an escape sequence reached the log")
        // The operator's reports stay small and name only what the image allows.
        let status = try runtime.admin("status")
        XCTAssertLessThan(status.utf8.count, 64 * 1024)
        XCTAssertEqual(try kernel.domain("hostile").exports, ["hostile"])
        XCTAssertEqual(try kernel.domain("hostile").state, "ready")
        assertEveryoneElseIsFine()
    }

    func testRefusedRequestsAreLoggedAtABoundedRate() throws {
        let before = kernel.log.utf8.count
        guard case .success(let outcome) = attack(AttackOrder("refused-import-flood", target: 5_000)) else { return XCTFail("attack call failed") }
        XCTAssertEqual(outcome.errno, 0, outcome.detail)
        // The next line after the rate window sums up what was dropped.
        usleep(1_100_000)
        _ = attack(AttackOrder("refused-import-flood", target: 1))
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) { self.kernel.log.contains("not logged (rate limit)") })
        let grown = kernel.log.utf8.count - before
        XCTAssertLessThan(grown, 100_000, "5,000 refused imports grew the log by \(grown) bytes")
        assertEveryoneElseIsFine()
    }
}
