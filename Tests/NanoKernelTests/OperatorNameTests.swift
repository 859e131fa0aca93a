// An operator's domain name comes from the kernel, never equals a service's name in the
// image, and carries nothing but ASCII letters, digits and '-'. Services rely on it: the
// file service picks a caller's view by it, the registry its owner.
@testable import NanoKernel
import XCTest

final class OperatorNameTests: XCTestCase {
    func testTheNameIsWhatWasAskedForThenThePid() {
        XCTAssertEqual(Kernel.operatorName(requested: "nkctl", pid: 42, serviceNames: ["name", "clock"]), "nkctl-42")
        XCTAssertEqual(Kernel.operatorName(requested: "", pid: 7, serviceNames: []), "operator-7")
    }

    func testAnOperatorCannotTakeAServicesName() {
        let name = Kernel.operatorName(requested: "files", pid: 99, serviceNames: ["files-99", "clock"])
        XCTAssertNotEqual(name, "files-99")
        XCTAssertEqual(name, "operator-files-99")
    }

    func testOnlyASCIILettersDigitsAndDashesSurvive() {
        let name = Kernel.operatorName(requested: "a\u{1b}[2J\nb\u{0430}c/../d", pid: 1, serviceNames: [])
        XCTAssertEqual(name, "a2Jbcd-1")
        XCTAssertEqual(Kernel.operatorName(requested: String(repeating: "x", count: 100), pid: 3, serviceNames: []),
                       String(repeating: "x", count: 24) + "-3")
    }
}
