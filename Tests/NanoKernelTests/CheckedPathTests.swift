// The file service's first confinement layer on its own: which client paths pass, and
// the typed error for each that does not.
import Interfaces
import XCTest

final class CheckedPathTests: XCTestCase {
    func code(_ text: String, allowRoot: Bool = false) -> FileError.Code? {
        do { _ = try CheckedPath(checking: text, allowRoot: allowRoot); return nil } catch { return error.code }
    }

    func testPlainNamesPass() throws {
        XCTAssertEqual(try CheckedPath(checking: "notes/today.txt").components, ["notes", "today.txt"])
        XCTAssertEqual(try CheckedPath(checking: "café/日本語 notes.txt").components, ["café", "日本語 notes.txt"])
        XCTAssertEqual(try CheckedPath(checking: "a/..b/c..").relative, "a/..b/c..")
        XCTAssertEqual(try CheckedPath(checking: ".hidden").name, ".hidden")
        XCTAssertTrue(try CheckedPath(checking: "", allowRoot: true).isRoot)
        XCTAssertEqual(try CheckedPath(checking: ".", allowRoot: true).relative, ".")
        XCTAssertEqual(try CheckedPath(checking: "a/b/c").parent.relative, "a/b")
        XCTAssertEqual(try CheckedPath(checking: String(repeating: "n", count: 255)).components.count, 1)
    }

    func testEveryBadPathHasItsError() {
        XCTAssertEqual(code(""), .invalidPath)
        XCTAssertEqual(code("."), .invalidPath)
        XCTAssertEqual(code("/etc/passwd"), .invalidPath)
        XCTAssertEqual(code(".."), .outsideView)
        XCTAssertEqual(code("a/../../b"), .outsideView)
        XCTAssertEqual(code("a/./b"), .invalidPath)
        XCTAssertEqual(code("a//b"), .invalidPath)
        XCTAssertEqual(code("a/"), .invalidPath)
        XCTAssertEqual(code("a\u{0}b"), .invalidPath)
        XCTAssertEqual(code("a\tb"), .invalidPath)
        XCTAssertEqual(code("a\u{7f}"), .invalidPath)
        XCTAssertEqual(code(String(repeating: "n", count: 256)), .nameTooLong)
        XCTAssertEqual(code(String(repeating: "d/", count: 512) + "x"), .nameTooLong)
        XCTAssertEqual(code("dir/.nk-put-1-1"), .invalidPath)
    }
}
