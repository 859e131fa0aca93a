// What learning mode prints, without a kernel: paths compared lexically, lines that
// paste as TOML, files collapsed into their directory, and the bounds.
@testable import NanoKernel
import BootImage
import Foundation
import XCTest

final class LearnedSandboxTests: XCTestCase {
    func testPathsAreNormalisedAndComparedByComponent() {
        XCTAssertEqual(HostPath.normalised("/a//b/./c/../d/"), "/a/b/d")
        XCTAssertEqual(HostPath.normalised("/../.."), "/")
        XCTAssertTrue(HostPath.isWithin("/var/lib/kv/x", "/var/lib/kv"))
        XCTAssertTrue(HostPath.isWithin("/var/lib/kv", "/var/lib/kv"))
        XCTAssertFalse(HostPath.isWithin("/var/lib/kvx", "/var/lib/kv"), "a prefix is not a parent")
        XCTAssertTrue(HostPath.isWithin("/etc", "/"))
    }

    func testLinesQuoteWhatADomainNamedSoTheyPasteAndLogSafely() throws {
        let hostile = "/tmp/\u{1b}[31m\"x\"\\\n\u{202e}"
        let quoted = HostPath.quoted(hostile)
        XCTAssertEqual(quoted, #""/tmp/\u001B[31m\"x\"\\\u000A\u202E""#)
        XCTAssertFalse(quoted.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x202e })
        // It decodes back to the same path as an image value.
        let image = "[image]\nname = \"q\"\n[[service]]\nname = \"s\"\nexecutable = \"/bin/s\"\n[service.sandbox]\nread_only = \(HostPath.tomlList([hostile]))\n"
        let path = NSTemporaryDirectory() + "learned-\(getpid()).toml"
        try image.write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        XCTAssertEqual(try BootImage.load(path: path).services.first?.sandbox.readOnlyPaths, [hostile])
    }

    func testManyFilesOfOneDirectoryBecomeItsGrantButNeverATopLevelOne() {
        let certs = (0..<5).map { "/etc/ssl/certs/\($0).pem" }
        XCTAssertEqual(LearnedSandbox.collapsed(certs + ["/etc/hosts"]), ["/etc/ssl/certs", "/etc/hosts"])
        let top = ["/etc/a", "/etc/b", "/etc/c", "/etc/d"]
        XCTAssertEqual(LearnedSandbox.collapsed(top), top, "never /etc")
        XCTAssertEqual(LearnedSandbox.collapsed(["/srv/x/y", "/srv/x"]), ["/srv/x"], "within another learned path")
    }

    func testLinesCarryTheImagesOwnEntriesFirstAndRecordingIsBounded() {
        var grant = SandboxGrant()
        grant.readOnlyPaths = ["/usr/share/zoneinfo"]
        grant.extraSyscalls = ["pread64"]
        let identity = DomainIdentity(uid: getuid(), gid: getgid(), groups: [])
        var learned = LearnedSandbox(image: grant, filterExtras: grant.extraSyscalls,
                                     classifier: PathClassifier(readOnly: grant.readOnlyPaths, readWrite: [],
                                                                executable: "/bin/s", identity: identity))
        XCTAssertEqual(learned.record(.need(.readOnly, path: "/etc/kv.conf", reason: "")), .recorded)
        XCTAssertEqual(learned.record(.need(.readWrite, path: "/var/lib/kv", reason: "")), .recorded)
        XCTAssertEqual(learned.record(.need(.readOnly, path: "/var/lib/kv/store", reason: "")), .known,
                       "a read under a learned read_write path needs nothing more")
        XCTAssertTrue(learned.record(syscall: "fsync"))
        XCTAssertFalse(learned.record(syscall: "fsync"))
        XCTAssertFalse(learned.record(syscall: "pread64"), "the image grants it already")
        XCTAssertEqual(learned.line(.readOnly), #"read_only = ["/usr/share/zoneinfo", "/etc/kv.conf"]"#)
        XCTAssertEqual(learned.line(.readWrite), #"read_write = ["/var/lib/kv"]"#)
        XCTAssertEqual(learned.syscallLine, #"extra_syscalls = ["pread64", "fsync"]"#)
        var outcomes: [LearnedSandbox.Recorded] = []
        for i in 0..<100 { outcomes.append(learned.record(.need(.readOnly, path: "/data/\(i)/f", reason: ""))) }
        XCTAssertEqual(learned.readOnly.count + learned.readWrite.count, LearnedSandbox.maximumPaths)
        XCTAssertEqual(outcomes.filter { $0 == .overflow }.count, 1, "the overflow is said once")
    }
}
