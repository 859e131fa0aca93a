// ImageRangeTests: every image value is range-checked, and the error names the file, the
// line and the field. A value past what a field can mean is an error, never quietly
// something else (memory_mib = 2^44 used to overflow to "no limit" once in bytes).
@testable import BootImage
import XCTest

final class ImageRangeTests: XCTestCase {
    func testLimitsPastWhatTheyCanMeanAreErrors() {
        let cases: [(field: String, expected: String)] = [
            ("sandbox.memory_mib = 17592186044416",
             "bad.toml:7: service 'clock'.sandbox.memory_mib: expected at most 1048576, got 17592186044416"),
            ("sandbox.open_files = 9223372036854775807",
             "bad.toml:7: service 'clock'.sandbox.open_files: expected at most 1048576, got 9223372036854775807"),
            ("sandbox.processes = 4194305",
             "bad.toml:7: service 'clock'.sandbox.processes: expected at most 4194304, got 4194305"),
        ]
        for (field, expected) in cases {
            XCTAssertEqual(imageError(clock(field))?.description, expected, field)
        }
    }

    func testTheLargestLimitsStillLoad() throws {
        let image = try BootImage.parse(text: clock("""
            sandbox.memory_mib = 1048576
            sandbox.open_files = 1048576
            sandbox.processes = 4194304
            """), path: "ok.toml")
        XCTAssertEqual(image.services[0].sandbox.memoryLimitMiB, SandboxGrant.maximumMemoryMiB)
        XCTAssertEqual(image.services[0].sandbox.openFilesLimit, SandboxGrant.maximumOpenFiles)
        XCTAssertEqual(image.services[0].sandbox.processesLimit, SandboxGrant.maximumProcesses)
    }

    func testAnIntegerPast64BitsIsAnError() {
        XCTAssertEqual(imageError(clock("sandbox.memory_mib = 99999999999999999999"))?.description,
                       "bad.toml:7: integer '99999999999999999999' does not fit in 64 bits")
    }

    func testTooManyGrantedPathsAreAnError() {
        let paths = (0..<64).map { "\"/srv/p\($0)\"" }.joined(separator: ", ")
        XCTAssertEqual(imageError(clock("[service.sandbox]\nread_only = [\(paths)]"))?.description,
                       "bad.toml:7: service 'clock'.sandbox: grants 64 read_only and read_write paths; at most 63 in all")
    }

    func testListsAreBounded() {
        let arguments = (0..<65).map { "\"a\($0)\"" }.joined(separator: ", ")
        XCTAssertEqual(imageError(clock("arguments = [\(arguments)]"))?.description,
                       "bad.toml:7: service 'clock'.arguments: lists 65 entries; at most 64")
    }

    func testStringsAreBoundedAndHaveNoNul() {
        XCTAssertEqual(imageError(clock("arguments = [\"\(String(repeating: "x", count: 4097))\"]"))?.description,
                       "bad.toml:7: service 'clock'.arguments: is 4097 bytes long; at most 4096")
        XCTAssertEqual(imageError(clock("arguments = [\"--flag\\u0000hidden\"]"))?.description,
                       "bad.toml:7: service 'clock'.arguments: contains a NUL character, which would cut it short")
        XCTAssertEqual(imageError(clock("[service.sandbox]\nread_only = [\"/srv/a\\u0000/etc\"]"))?.description,
                       "bad.toml:8: service 'clock'.sandbox.read_only: contains a NUL character, which would cut it short")
    }

    func testServiceAndInterfaceNamesAreBounded() {
        let long = String(repeating: "c", count: 33)
        XCTAssertEqual(imageError(clock("", name: long))?.description,
                       "bad.toml:5: service '\(long)'.name: is 33 characters long; at most 32")
        XCTAssertEqual(imageError(clock("provides = [\"clo\\nck\"]"))?.description,
                       "bad.toml:7: service 'clock'.provides: expected an interface name of letters, digits, '.', '_' and '-' (at most 32, starting with a letter or digit), got \"clo\\nck\"")
        XCTAssertEqual(imageError(clock("provides = [\"\(long)\"]"))?.description,
                       "bad.toml:7: service 'clock'.provides: expected an interface name of letters, digits, '.', '_' and '-' (at most 32, starting with a letter or digit), got \"\(long)\"")
    }

    func testTheImageNameAndTheServiceCountAreBounded() {
        XCTAssertEqual(imageError("[image]\nname = \"two\\nlines\"")?.description,
                       "bad.toml:2: image.name: expected at most 64 characters and no control character, got \"two\\nlines\"")
        let services = (0..<257).map { "[[service]]\nname = \"s\($0)\"\nexecutable = \"nk-clock\"" }.joined(separator: "\n")
        XCTAssertEqual(imageError("[image]\nname = \"t\"\n" + services)?.description,
                       "bad.toml:3: service: 257 services; an image holds at most 256")
    }

    // MARK: Helpers

    /// A one-service image with `extra` as its seventh line onwards.
    private func clock(_ extra: String, name: String = "clock") -> String {
        """
        [image]
        name = "t"

        [[service]]
        name = "\(name)"
        executable = "nk-clock"
        \(extra)
        """
    }

    private func imageError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> ImageError? {
        do throws(ImageError) {
            _ = try BootImage.parse(text: text, path: "bad.toml")
            XCTFail("expected the image to be refused", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }
}
