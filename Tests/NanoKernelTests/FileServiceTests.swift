// The file service (nk-file) in a real kernel: every procedure and its typed errors,
// confinement against "..", absolute paths and symlinks (planted, and swapped in during
// calls), per-client views, quotas, concurrent writers, streamed copies, and acknowledged
// writes surviving SIGKILL of the service.
import Foundation
import Glibc
import Interfaces
import LRPC
import NanoKernel
import XCTest

final class FileServiceTests: KernelTestCase {
    override var bootsDefaultImage: Bool { false }

    var root: String { kernel.directory + "/files" }
    /// The uid and gid the file service runs as under a root kernel (no tenants in these tests).
    var fileServiceID: UInt32 { KernelHarness.hostID(of: "file", among: ["name", "file"]) }

    static let operatorView = """
        [[service.file.view]]
        client = "operator"
        path = ""
        access = "read-write"
        """

    /// Boots name + file (+ tenants) with the root in the test's directory; returns the
    /// operator's file client.
    @discardableResult
    func boot(views: String = operatorView, tenants: [String] = []) throws -> FileClient {
        let tenantEntries = tenants.map { """
            [[service]]
            name = "\($0)"
            executable = "nk-tenant"
            provides = ["\($0)"]
            imports = ["name", "file"]
            """ }.joined(separator: "\n\n")
        let image = kernel.writeImage("""
            [image]
            name = "files"

            [operator]
            imports = [\((["name", "file"] + tenants).map { "\"\($0)\"" }.joined(separator: ", "))]

            [[service]]
            name = "name"
            executable = "nk-name"
            provides = ["name"]

            [[service]]
            name = "file"
            executable = "nk-file"
            provides = ["file"]
            imports = ["name"]

            [service.file]
            root = "\(root)"
            \(views)

            \(tenantEntries)
            """)
        try kernel.boot(image: image)
        return try client()
    }

    func client() throws -> FileClient {
        let binding = try kernel.connect().importInterface(FileInterface.name)
        binding.callTimeoutSeconds = 20
        return FileClient(binding)
    }

    /// The FileError a call threw (fails the test when it threw something else or nothing).
    func fileError(_ body: @autoclosure () throws -> Any, file: StaticString = #filePath, line: UInt = #line) -> FileError.Code? {
        do {
            _ = try body()
            XCTFail("expected a FileError, the call succeeded", file: file, line: line)
        } catch let error as FileError {
            return error.code
        } catch {
            XCTFail("expected a FileError, got \(error)", file: file, line: line)
        }
        return nil
    }

    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Random bytes from the host, fast enough for tens of MiB in a debug build.
    func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, count - done) }
            guard n > 0 else { XCTFail("reading /dev/urandom"); break }
            done += n
        }
        return bytes
    }

    /// A file made on the host, behind the service's back (no fsync: FileManager's atomic
    /// writes are slow on a busy disk).
    func plant(_ path: String, _ contents: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0, "cannot create \(path)", file: file, line: line)
        XCTAssertEqual(write(fd, contents, contents.count), contents.count, file: file, line: line)
        close(fd)
    }

    // MARK: procedures

    func testEveryProcedure() throws {
        let files = try boot()
        XCTAssertEqual(try files.write("notes/today.txt", bytes("buy milk")).size, 8)
        XCTAssertEqual(try files.read("notes/today.txt").data.bytes, bytes("buy milk"))
        XCTAssertEqual(try files.stat("notes/today.txt").kind.text, "file")
        XCTAssertEqual(try files.stat("notes").kind.text, "directory")
        XCTAssertEqual(try files.stat("").kind.text, "directory")
        XCTAssertEqual(try files.list("notes"), [FileEntry(name: "today.txt", kind: "file", size: 8)])

        XCTAssertEqual(try files.write("notes/today.txt", at: 4, bytes("MILK and eggs")).size, 17)
        XCTAssertEqual(try files.read("notes/today.txt").data.bytes, bytes("buy MILK and eggs"))
        let appended = try files.append("notes/today.txt", bytes("!"))
        XCTAssertEqual(appended.offset, 17)
        XCTAssertEqual(appended.size, 18)
        XCTAssertEqual(try files.read("notes/today.txt", offset: 4, count: 4).data.bytes, bytes("MILK"))
        let end = try files.read("notes/today.txt", offset: 18)
        XCTAssertEqual(end.data.bytes, [])
        XCTAssertTrue(end.eof)

        XCTAssertEqual(try files.truncate("notes/today.txt", to: 3).size, 3)
        XCTAssertEqual(try files.read("notes/today.txt").data.bytes, bytes("buy"))
        try files.rename("notes/today.txt", to: "archive/2026/done.txt")
        XCTAssertEqual(fileError(try files.stat("notes/today.txt")), .notFound)
        XCTAssertEqual(try files.read("archive/2026/done.txt").data.bytes, bytes("buy"))
        try files.mkdir("a/b/c")
        try files.mkdir("a/b/c")  // an existing directory is not an error
        XCTAssertEqual(try files.stat("a/b/c").kind.text, "directory")
        try files.sync("archive/2026/done.txt")
        try files.sync("")
        XCTAssertEqual(try files.put("config/settings.toml", bytes("x = 1")).size, 5)
        XCTAssertEqual(try files.read("config/settings.toml").data.bytes, bytes("x = 1"))
        try files.remove("archive/2026/done.txt")
        try files.remove("archive/2026")
        XCTAssertEqual(fileError(try files.stat("archive/2026")), .notFound)

        // What the service wrote is what is on disk, and no temporary file is left.
        XCTAssertEqual(try String(contentsOfFile: root + "/config/settings.toml", encoding: .utf8), "x = 1")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root + "/config"), ["settings.toml"])
    }

    /// The default image boots the file service with its root under the state
    /// directory, made for the uid domains run as, and nkctl's generic call drives it.
    func testTheDefaultImageKeepsNotes() throws {
        try kernel.boot()
        func nkctl(_ args: String...) throws -> (status: Int32, output: String) {
            try KernelHarness.run([KernelHarness.nkctl, "call", "--socket", kernel.socketPath] + args, timeout: 20)
        }
        XCTAssertEqual(try nkctl("file.write", "notes/today.txt", "buy milk").status, 0)
        let read = try nkctl("file.read", "notes/today.txt")
        XCTAssertEqual(read.status, 0)
        XCTAssertTrue(read.output.contains("data: buy milk"), read.output)
        XCTAssertTrue(try nkctl("file.list", "notes").output.contains("today.txt"))
        XCTAssertTrue(try nkctl("file.stat", "notes/today.txt").output.contains("size: 8"))
        XCTAssertEqual(try nkctl("file.rename", "notes/today.txt", "notes/done.txt").status, 0)
        XCTAssertEqual(try nkctl("file.remove", "notes/done.txt").status, 0)
        let missing = try nkctl("file.read", "notes/done.txt")
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.output.contains("notFound"), missing.output)

        let defaultRoot = String(cString: getenv("XDG_STATE_HOME")) + "/nanokernel/files"
        XCTAssertEqual(try kernel.domain("file").sandbox["file_root"], defaultRoot)
        // Landlock: read-write on the root (the descriptor the kernel handed over) and
        // nothing else; the file calls are in this domain's filter and no other's.
        XCTAssertEqual(try kernel.domain("file").sandbox["read_write"], "/proc/self/fd/4")
        XCTAssertNotNil(try kernel.domain("file").sandbox["file_syscalls"])
        for other in ["name", "clock", "bench"] {
            XCTAssertNil(try kernel.domain(other).sandbox["file_syscalls"], other)
            XCTAssertNil(try kernel.domain(other).sandbox["read_write"], other)
        }
        var st = stat()
        XCTAssertEqual(stat(defaultRoot, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o700)
        if geteuid() == 0 { XCTAssertEqual(st.st_uid, fileServiceID) }
    }

    /// Every nkctl process is a new operator client with a new name; they share one view,
    /// so the service's descriptors stay bounded however many come and go.
    func testManyOperatorClientsShareOneView() throws {
        let files = try boot()
        try files.write("shared.txt", bytes("one view"))
        let pid = try kernel.domain("file").pid
        let before = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
        for i in 0..<100 {
            let runtime = try DomainRuntime.connect(socketPath: kernel.socketPath, name: "client\(i)")
            let client = FileClient(try runtime.importInterface(FileInterface.name))
            XCTAssertEqual(try client.read("shared.txt").data.bytes, bytes("one view"))
            runtime.close()
        }
        let after = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
        XCTAssertLessThanOrEqual(after, before + 2, "the file service's descriptors grew with its clients")
        XCTAssertEqual(try files.read("shared.txt").data.bytes, bytes("one view"))
    }

    /// A service killed between creating a temporary file and renaming it leaves the
    /// file behind; the next instance removes it, and no client can name one.
    func testTemporaryFilesOfEarlierInstancesAreRemoved() throws {
        try FileManager.default.createDirectory(atPath: root + "/deep/er", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: root + "/deep/er/.nk-put-1234abcd-7", contents: Data("half".utf8))
        FileManager.default.createFile(atPath: root + "/deep/er/kept.txt", contents: Data("kept".utf8))
        // As an instance under an older kernel would have left them: owned by the uid all
        // domains shared then (65534). The kernel hands the store to the service's own uid.
        if geteuid() == 0 {
            for path in ["", "/deep", "/deep/er", "/deep/er/.nk-put-1234abcd-7", "/deep/er/kept.txt"] {
                XCTAssertEqual(chown(root + path, 65534, 65534), 0)
            }
        }
        let files = try boot()
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) {
            !FileManager.default.fileExists(atPath: self.root + "/deep/er/.nk-put-1234abcd-7")
        })
        XCTAssertEqual(try files.list("deep/er").map(\.name), ["kept.txt"])
        XCTAssertEqual(fileError(try files.read("deep/er/.nk-put-1234abcd-7")), .invalidPath)
        if geteuid() == 0 {
            var st = stat()
            for path in ["", "/deep", "/deep/er", "/deep/er/kept.txt"] {
                XCTAssertEqual(lstat(root + path, &st), 0)
                XCTAssertEqual(st.st_uid, fileServiceID, "\(path) was not handed to the file service's uid")
                XCTAssertEqual(st.st_gid, fileServiceID)
            }
        }
    }

    func testListIsPaged() throws {
        let files = try boot()
        try files.mkdir("many")
        // A page holds FileInterface.listEntries (200) entries, each room for a name of
        // the longest kind: 450 long names take three pages.
        XCTAssertEqual(FileInterface.listEntries, 200)
        for i in 0..<450 {
            let name = String(format: "%04d-", i) + String(repeating: "n", count: 240)
            plant(root + "/many/" + name, [1, 2, 3])
        }
        var pages = 0, cursor: UInt64 = 0
        var names: [String] = []
        repeat {
            let page = try files.call(FileInterface.listFrom, ListArguments(path: "many", cursor: cursor))
            names += page.items.map(\.name)
            cursor = page.next
            pages += 1
        } while cursor != 0 && pages < 100
        XCTAssertEqual(pages, 3)
        XCTAssertEqual(names.count, 450)
        XCTAssertEqual(Set(names).count, 450)
        XCTAssertEqual(try files.list("many").count, 450)
        // A name no client could create (a newline in it) is counted, not listed.
        plant(root + "/many/bad\nname", [])
        let first = try files.call(FileInterface.list, PathArgument("many"))
        var unlisted = first.unlisted
        cursor = first.next
        while cursor != 0 {
            let page = try files.call(FileInterface.listFrom, ListArguments(path: "many", cursor: cursor))
            unlisted += page.unlisted
            cursor = page.next
        }
        XCTAssertEqual(unlisted, 1)
        XCTAssertEqual(try files.list("many").count, 450)
    }

    func testBadInputGetsATypedErrorAndTheServiceKeepsServing() throws {
        let files = try boot()
        try files.write("dir/file.txt", bytes("kept"))
        XCTAssertEqual(fileError(try files.read("../outside")), .outsideView)
        XCTAssertEqual(fileError(try files.read("dir/../../outside")), .outsideView)
        XCTAssertEqual(fileError(try files.read("/etc/passwd")), .invalidPath)
        XCTAssertEqual(fileError(try files.write("a\u{0}b", [])), .invalidPath)
        XCTAssertEqual(fileError(try files.write("a\nb", [])), .invalidPath)
        XCTAssertEqual(fileError(try files.write("a\u{1b}[2J", [])), .invalidPath)
        XCTAssertEqual(fileError(try files.write("dir//x", [])), .invalidPath)
        XCTAssertEqual(fileError(try files.write("", [])), .invalidPath)
        XCTAssertEqual(fileError(try files.write(String(repeating: "n", count: 256), [])), .nameTooLong)
        XCTAssertThrowsError(try files.write(String(repeating: "d/", count: 520) + "x", [])) {
            guard case CallError.fieldTooLarge(let field, _, let limit) = $0 else { return XCTFail("expected fieldTooLarge, got \($0)") }
            XCTAssertTrue(field.hasSuffix("path"), field)
            XCTAssertEqual(limit, 1024)
        }
        XCTAssertEqual(fileError(try files.read("dir/file.txt", offset: 5)), .tooLarge)  // past the end
        XCTAssertEqual(fileError(try files.read("missing.txt")), .notFound)
        XCTAssertEqual(fileError(try files.read("dir")), .isDirectory)
        XCTAssertEqual(fileError(try files.write("dir", bytes("x"))), .isDirectory)
        XCTAssertEqual(fileError(try files.write("dir/file.txt/x", bytes("x"))), .notDirectory)
        XCTAssertEqual(fileError(try files.list("dir/file.txt")), .notDirectory)
        XCTAssertEqual(fileError(try files.remove("dir")), .notEmpty)
        XCTAssertEqual(fileError(try files.remove("")), .invalidPath)
        XCTAssertEqual(fileError(try files.write("dir/file.txt", at: UInt64(Int64.max), bytes("x"))), .tooLarge)
        XCTAssertEqual(fileError(try files.rename("dir", to: "dir/inner")), .invalidPath)
        // Made-up positions: a page from somewhere, or none; never a dead service.
        for cursor: UInt64 in [.max, 1 << 63, 0x1234_5678_9abc, 3] {
            do { _ = try files.call(FileInterface.listFrom, ListArguments(path: "dir", cursor: cursor)) } catch is FileError {}
        }

        // More than an A-stack from the typed client: refused in the stub, before the trap.
        XCTAssertThrowsError(try files.write("big", [UInt8](repeating: 0, count: FileInterface.chunkCapacity + 1))) {
            guard case CallError.fieldTooLarge(let field, _, let limit) = $0 else { return XCTFail("expected fieldTooLarge, got \($0)") }
            XCTAssertTrue(field.hasSuffix("data"), field)
            XCTAssertEqual(limit, FileInterface.chunkCapacity)
        }
        // From a raw client that claims a longer payload than the A-stack holds: the
        // server stub refuses the arguments.
        XCTAssertThrowsError(try files.binding!.call(
            procedureID: FileInterface.writeAt.id, name: "writeAt",
            write: { (w: inout AStackWriter) throws(CallError) in
                try w.put(text: "dir/file.txt", capacity: FileInterface.pathCapacity, field: "path")
                try w.put(UInt64(0), field: "offset")
                try w.put(UInt32(10_000_000), field: "data")
            },
            read: { (_: inout AStackReader) throws(CallError) in })) {
            guard case CallError.malformed = $0 else { return XCTFail("expected malformed, got \($0)") }
        }
        XCTAssertEqual(try files.read("dir/file.txt").data.bytes, bytes("kept"))
        XCTAssertEqual(try kernel.domain("file").state, "ready")
    }

    /// A raw client sends every procedure thousands of arguments, from nearly valid to
    /// garbage: each call ends in a result or a typed refusal, the service never dies,
    /// nothing appears outside its root, and honest calls are answered throughout.
    func testGarbageArgumentsToEveryProcedure() throws {
        let files = try boot(views: """
            [[service.file.view]]
            client = "operator"
            path = ""
            access = "read-write"
            max_mib = 16
            max_files = 200
            """)
        try files.write("seed/file.txt", bytes("seed"))
        try files.write("honest.txt", bytes("honest"))  // a name no random path can form
        let pid = try kernel.domain("file").pid
        let outsideBefore = try FileManager.default.contentsOfDirectory(atPath: kernel.directory).sorted()
        var generator = SystemRandomNumberGenerator()
        let pieces = ["a", "seed", "file.txt", "/", "/", ".", "..", "\u{0}", "\n", "é", "日", "//", ".nk-put-1", " ", "\u{7f}"]
        func path() -> String { (0..<Int.random(in: 0...6, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined() }
        let procedures = FileInterface.all
        for i in 0..<3000 {
            let procedure = procedures.randomElement(using: &generator)!
            let garbage = i % 3 == 0
            do {
                _ = try files.binding!.call(procedureID: procedure.id, name: procedure.name, write: { (w: inout AStackWriter) throws(CallError) in
                    if garbage {
                        for _ in 0..<Int.random(in: 0...64, using: &generator) { try w.put(UInt32.random(in: 0...UInt32.max, using: &generator)) }
                        return
                    }
                    for field in procedure.arguments.fields {
                        switch field.kind {
                        case .text: try w.put(text: path(), capacity: field.capacity, field: field.name)
                        case .bytes: try w.put(bytes: (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) },
                                               capacity: field.capacity, field: field.name)
                        case .uint64: try w.put([0, 1, 4, 1 << 20, 1 << 40, UInt64(Int64.max), .max].randomElement(using: &generator)!, field: field.name)
                        case .uint32: try w.put(UInt32.random(in: 0...UInt32.max, using: &generator), field: field.name)
                        default: break
                        }
                    }
                }, read: { (_: inout AStackReader) throws(CallError) in })
            } catch {
                switch error {
                case .serviceError(let code, let message):
                    XCTAssertNotNil(FileError(code: code, message: message), "an unknown code \(code): \(message)")
                case .procedureFailed(let text):
                    XCTFail("an untyped failure: \(text)")
                case .malformed, .argumentsTooLarge:
                    break
                default:
                    XCTFail("call \(i) to \(procedure.name): \(error)")
                }
            }
            if i % 500 == 0 { XCTAssertEqual(try files.read("honest.txt").data.bytes, bytes("honest")) }
        }
        XCTAssertEqual(try kernel.domain("file").pid, pid, "the file service restarted")
        XCTAssertEqual(try kernel.domain("file").state, "ready")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: kernel.directory).sorted(), outsideBefore)
        XCTAssertEqual(try files.read("honest.txt").data.bytes, bytes("honest"))
    }

    // MARK: confinement

    func testSymlinksPlantedInsideTheRootAreNeverFollowed() throws {
        let files = try boot()
        let secret = kernel.directory + "/secret.txt"
        FileManager.default.createFile(atPath: secret, contents: Data("outside".utf8))
        try files.mkdir("inner")
        try files.write("inner/real.txt", bytes("inside"))
        XCTAssertEqual(symlink(secret, root + "/link-to-file"), 0)
        XCTAssertEqual(symlink(kernel.directory, root + "/link-to-dir"), 0)
        XCTAssertEqual(symlink("../secret.txt", root + "/relative-link"), 0)
        XCTAssertEqual(symlink("inner", root + "/inner-link"), 0)

        for path in ["link-to-file", "relative-link", "link-to-dir/secret.txt", "inner-link/real.txt"] {
            XCTAssertEqual(fileError(try files.read(path)), .notRegular, path)
            XCTAssertEqual(fileError(try files.write(path, at: 0, bytes("x"))), .notRegular, path)
        }
        XCTAssertEqual(fileError(try files.write("link-to-dir/new.txt", bytes("x"))), .notRegular)
        XCTAssertEqual(fileError(try files.list("link-to-dir")), .notRegular)
        XCTAssertEqual(fileError(try files.truncate("link-to-file", to: 0)), .notRegular)
        XCTAssertEqual(fileError(try files.stat("link-to-file")), .notRegular)
        // Replacing a link is refused; removing one removes the link, never its target.
        XCTAssertEqual(fileError(try files.write("link-to-file", bytes("replaced"))), .notRegular)
        try files.remove("relative-link")
        try files.remove("link-to-file")
        XCTAssertEqual(try String(contentsOfFile: secret, encoding: .utf8), "outside")
        XCTAssertFalse(FileManager.default.fileExists(atPath: kernel.directory + "/new.txt"))
        XCTAssertTrue(try files.list("").contains { $0.name == "link-to-dir" && $0.kind == "other" })
    }

    func testASymlinkSwappedInDuringCallsNeverLeadsOutside() throws {
        let files = try boot()
        let outside = kernel.directory + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: outside + "/data.txt", contents: Data("OUTSIDE".utf8))
        try files.write("swap/data.txt", bytes("inside"))
        // A host thread turns "swap" back and forth between the real directory and a
        // symlink to the outside while the client reads and writes through it.
        final class Flag: @unchecked Sendable { var raised = false }
        let stop = Flag()
        let swapper = Thread { [root] in
            while !stop.raised {
                rename(root + "/swap", root + "/swap-real")
                symlink(outside, root + "/swap")
                usleep(50)
                unlink(root + "/swap")
                rename(root + "/swap-real", root + "/swap")
            }
        }
        swapper.start()
        var reads = 0, refusals = 0
        // At least 2 s of swapping, and on until both outcomes were seen (a loaded machine
        // can starve the swapper), at most 30 s.
        let minimum = Date().addingTimeInterval(2), maximum = Date().addingTimeInterval(30)
        while Date() < minimum || ((reads == 0 || refusals == 0) && Date() < maximum) {
            do {
                let data = try files.read("swap/data.txt").data.bytes
                XCTAssertTrue(data == bytes("inside") || data.isEmpty, "read \(String(decoding: data, as: UTF8.self))")
                reads += 1
            } catch let error as FileError {
                XCTAssertTrue([.notRegular, .notFound].contains(error.code), "\(error)")
                refusals += 1
            }
            _ = try? files.write("swap/data.txt", at: 0, bytes("inside"))
            _ = try? files.write("swap/new.txt", bytes("new"))
        }
        stop.raised = true
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) { swapper.isFinished })
        XCTAssertEqual(try String(contentsOfFile: outside + "/data.txt", encoding: .utf8), "OUTSIDE")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside), ["data.txt"])
        // Both happened: reads through the real directory, refusals at the planted link.
        XCTAssertGreaterThan(reads, 0)
        XCTAssertGreaterThan(refusals, 0)
    }

    // MARK: views

    func testClientsSeeOnlyTheirOwnViews() throws {
        let files = try boot(views: Self.operatorView + """

            [[service.file.view]]
            client = "alpha"
            path = "apps/alpha"
            access = "read-write"

            [[service.file.view]]
            client = "beta"
            path = "apps/alpha"
            access = "read-only"

            [[service.file.view]]
            client = "*"
            path = "apps/{client}"
            access = "read-write"
            max_files = 3
            """, tenants: ["alpha", "beta", "gamma"])
        let runtime = try kernel.connect()
        let alpha = try runtime.importInterface("alpha"), beta = try runtime.importInterface("beta")
        let gamma = try runtime.importInterface("gamma")
        func failure(_ body: @autoclosure () throws -> Any) -> FileError.Code? {
            do { _ = try body(); return nil } catch CallError.serviceError(let code, let message) {
                return FileError(code: code, message: message)?.code
            } catch { return nil }
        }
        _ = try alpha.call(FileTenantInterface.write, WholeFile(path: "diary.txt", data: bytes("alpha's")))
        _ = try gamma.call(FileTenantInterface.write, WholeFile(path: "diary.txt", data: bytes("gamma's")))
        // Each wrote in its own directory; the operator sees both.
        XCTAssertEqual(try files.read("apps/alpha/diary.txt").data.bytes, bytes("alpha's"))
        XCTAssertEqual(try files.read("apps/gamma/diary.txt").data.bytes, bytes("gamma's"))
        XCTAssertEqual(try gamma.call(FileTenantInterface.read, PathArgument("diary.txt")).bytes, bytes("gamma's"))
        XCTAssertEqual(try gamma.call(FileTenantInterface.list, PathArgument("")).text, "diary.txt")
        // gamma cannot reach alpha's files by any path.
        XCTAssertEqual(failure(try gamma.call(FileTenantInterface.read, PathArgument("../alpha/diary.txt"))), .outsideView)
        XCTAssertEqual(failure(try gamma.call(FileTenantInterface.read, PathArgument("/apps/alpha/diary.txt"))), .invalidPath)
        // beta reads alpha's view, and may not change it.
        XCTAssertEqual(try beta.call(FileTenantInterface.read, PathArgument("diary.txt")).bytes, bytes("alpha's"))
        XCTAssertEqual(failure(try beta.call(FileTenantInterface.write, WholeFile(path: "diary.txt", data: []))), .readOnly)
        XCTAssertEqual(try files.read("apps/alpha/diary.txt").data.bytes, bytes("alpha's"))
        // gamma's quota (from the "*" grant) is its own: full for gamma, not for alpha.
        _ = try gamma.call(FileTenantInterface.write, WholeFile(path: "two.txt", data: []))
        _ = try gamma.call(FileTenantInterface.write, WholeFile(path: "three.txt", data: []))
        XCTAssertEqual(failure(try gamma.call(FileTenantInterface.write, WholeFile(path: "four.txt", data: []))), .quotaFiles)
        for name in ["two.txt", "three.txt", "four.txt"] {
            _ = try alpha.call(FileTenantInterface.write, WholeFile(path: name, data: []))
        }
        XCTAssertEqual(try alpha.call(FileTenantInterface.list, PathArgument("")).text.split(separator: "\n").count, 4)
    }

    func testAClientWithoutAGrantGetsNothing() throws {
        let files = try boot(views: """
            [[service.file.view]]
            client = "alpha"
            path = "apps/alpha"
            access = "read-write"
            """, tenants: ["alpha", "beta"])
        XCTAssertEqual(fileError(try files.list("")), .noView)
        XCTAssertThrowsError(try kernel.connect().importInterface("beta").call(
            FileTenantInterface.write, WholeFile(path: "x", data: []))) {
            guard case CallError.serviceError(let code, let message) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(FileError(code: code, message: message)?.code, .noView)
        }
    }

    // MARK: quotas

    func testQuotasRefuseWithoutDamage() throws {
        let files = try boot(views: """
            [[service.file.view]]
            client = "operator"
            path = ""
            access = "read-write"
            max_mib = 1
            max_files = 6
            """)
        let block = [UInt8](repeating: 7, count: 60_000)
        for i in 0..<17 { try files.write("data.bin", at: UInt64(i * block.count), block) }  // 1,020,000 bytes
        XCTAssertEqual(fileError(try files.append("data.bin", block)), .quotaBytes)
        XCTAssertEqual(fileError(try files.write("data.bin", at: 1_020_000, block)), .quotaBytes)
        XCTAssertEqual(fileError(try files.truncate("data.bin", to: 2_000_000)), .quotaBytes)
        XCTAssertEqual(fileError(try files.put("other.bin", block)), .quotaBytes)
        XCTAssertEqual(try files.stat("data.bin").size, 1_020_000)
        // Overwriting in place needs no new bytes.
        try files.write("data.bin", at: 0, block)
        for name in ["a", "b", "c", "d", "e"] { try files.write(name, []) }
        XCTAssertEqual(fileError(try files.write("f", [])), .quotaFiles)
        XCTAssertEqual(fileError(try files.mkdir("dir")), .quotaFiles)
        XCTAssertEqual(fileError(try files.write("dir/x", [])), .quotaFiles)
        // Freeing space lets writes in again; the counts follow removes and truncates.
        try files.truncate("data.bin", to: 0)
        try files.remove("a")
        try files.put("other.bin", block)
        XCTAssertEqual(try files.read("other.bin").data.bytes, block)
        // Sizes near the largest a file may have are refused, not added up past Int64.max.
        XCTAssertEqual(fileError(try files.truncate("data.bin", to: UInt64(Int64.max))), .quotaBytes)
        XCTAssertEqual(fileError(try files.write("data.bin", at: UInt64(Int64.max) - 1, [1])), .quotaBytes)
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: root).sorted()
        XCTAssertEqual(onDisk, ["b", "c", "d", "data.bin", "e", "other.bin"])
    }

    /// A partial upload its client abandoned (the client died, or an earlier instance of
    /// the service was killed under it) is removed once idle for `upload_idle_s`, and its
    /// view's quota gets the room back; one still being written stays; writing in place
    /// never makes a partial upload (a removed one is `notFound`, not a file with a hole).
    func testAbandonedUploadsAreRemovedOnceIdle() throws {
        try FileManager.default.createDirectory(atPath: root + "/old", withIntermediateDirectories: true)
        plant(root + "/old/.upload-0ld", bytes("left by a killed service"))
        if geteuid() == 0 {
            for path in ["/old", "/old/.upload-0ld"] { XCTAssertEqual(chown(root + path, fileServiceID, fileServiceID), 0) }
        }
        let files = try boot(views: """
            upload_idle_s = 1
            [[service.file.view]]
            client = "operator"
            path = ""
            access = "read-write"
            max_files = 5
            """)
        // As a client that died mid-upload leaves them: two partial files, idle from now on.
        try files.write(".upload-dead1", bytes("half"))
        try files.write(".upload-dead2", bytes("half"))
        // A live upload keeps writing past the idle time and is kept.
        try files.write(".upload-live", [])
        XCTAssertEqual(fileError(try files.write("full", [])), .quotaFiles)  // old, old/.upload-0ld, three partials
        let start = Date()
        var offset: UInt64 = 0
        while Date().timeIntervalSince(start) < 3 {
            _ = try? files.write(".upload-live", at: offset, bytes("chunk"))
            offset += 5
            usleep(200_000)
        }
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) {
            !FileManager.default.fileExists(atPath: self.root + "/.upload-dead1")
                && !FileManager.default.fileExists(atPath: self.root + "/.upload-dead2")
                && !FileManager.default.fileExists(atPath: self.root + "/old/.upload-0ld")
        }, "abandoned partial uploads stay: \((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])")
        XCTAssertEqual(fileError(try files.write(".upload-dead1", at: 4, bytes("rest"))), .notFound)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/.upload-dead1"))
        try files.rename(".upload-live", to: "done.bin")
        XCTAssertEqual(try files.stat("done.bin").size, offset)
        // The quota counted the removed files out: room for new ones.
        XCTAssertNoThrow(try files.write("new", []))
    }

    /// A hard link planted in the root from the host could name a file outside it: its
    /// contents are refused; removing or replacing the name leaves the other file alone.
    func testHardLinksPlantedFromTheHostAreNotFollowed() throws {
        let files = try boot()
        let secret = kernel.directory + "/secret.txt"
        plant(secret, bytes("outside"))
        XCTAssertEqual(chmod(secret, 0o666), 0)
        XCTAssertEqual(link(secret, root + "/hard"), 0)
        XCTAssertEqual(fileError(try files.read("hard")), .notRegular)
        XCTAssertEqual(fileError(try files.write("hard", at: 0, bytes("changed"))), .notRegular)
        XCTAssertEqual(fileError(try files.append("hard", bytes("changed"))), .notRegular)
        XCTAssertEqual(fileError(try files.truncate("hard", to: 0)), .notRegular)
        XCTAssertEqual(try String(contentsOfFile: secret, encoding: .utf8), "outside")
        try files.write("hard", bytes("replaced"))  // a new file under the name
        XCTAssertEqual(try files.read("hard").data.bytes, bytes("replaced"))
        try files.remove("hard")
        XCTAssertEqual(try String(contentsOfFile: secret, encoding: .utf8), "outside")
    }

    /// The root on a 256 KiB tmpfs: a full disk is `noSpace`, and nothing already written
    /// changes (a failed append leaves the old length, a failed put the old file).
    func testAFullDiskDamagesNothing() throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        guard mount("tmpfs", root, "tmpfs", 0, "size=256k,mode=0700") == 0 else {
            return XCTFail("cannot mount a small tmpfs for the root (needs CAP_SYS_ADMIN): \(String(cString: strerror(errno)))")
        }
        defer { umount2(root, Int32(MNT_DETACH)) }
        let files = try boot()
        let keep = (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try files.write("keep.bin", keep)
        var size = UInt64(keep.count)
        var full = false
        for _ in 0..<8 {
            do {
                size = try files.append("keep.bin", keep).size
            } catch let error as FileError {
                XCTAssertEqual(error.code, .noSpace, "\(error)")
                full = true
                break
            }
        }
        XCTAssertTrue(full, "the 256 KiB disk never filled")
        XCTAssertEqual(try files.stat("keep.bin").size, size, "a failed append leaves the old length")
        XCTAssertEqual(fileError(try files.put("keep.bin", keep.reversed())), .noSpace)
        XCTAssertEqual(fileError(try files.put("other.bin", keep)), .noSpace)
        let stored = try files.readAll("keep.bin")
        XCTAssertEqual(UInt64(stored.count), size)
        XCTAssertEqual(Array(stored.prefix(keep.count)), keep)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), ["keep.bin"], "no temporary file is left")
        // Freeing space lets writes in again.
        try files.truncate("keep.bin", to: 0)
        try files.put("keep.bin", keep)
        XCTAssertEqual(try files.readAll("keep.bin"), keep)
        kernel.shutdown()
    }

    /// Clients replacing one file at once (the data written outside the write lock) leave
    /// the count exact: afterwards the quota admits exactly what is left of it.
    func testQuotaCountsStayExactUnderConcurrentReplaces() throws {
        let files = try boot(views: """
            [[service.file.view]]
            client = "operator"
            path = ""
            access = "read-write"
            max_mib = 1
            """)
        DispatchQueue.concurrentPerform(iterations: 4) { w in
            for i in 0..<40 {
                let data = [UInt8](repeating: UInt8(w), count: 1000 * ((w * 7 + i * 13) % 60 + 1))
                do {
                    if i % 2 == 0 { try files.put("same.bin", data) } else { try files.write("same.bin", data) }
                } catch {
                    XCTFail("writer \(w): \(error)")
                }
            }
        }
        let left = UInt64(1 << 20) - (try files.stat("same.bin").size)
        try files.write("fill.bin", [])
        XCTAssertEqual(fileError(try files.truncate("fill.bin", to: left + 1)), .quotaBytes)
        XCTAssertEqual(try files.truncate("fill.bin", to: left).size, left)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root).sorted(), ["fill.bin", "same.bin"])
    }

    // MARK: concurrency and streaming

    func testConcurrentWriters() throws {
        let files = try boot()
        let record = 100
        let writers = 4, perWriter = 200
        DispatchQueue.concurrentPerform(iterations: writers) { w in
            for i in 0..<perWriter {
                let text = String(format: "writer %d record %05d ", w, i).padding(toLength: record - 1, withPad: ".", startingAt: 0) + "\n"
                do {
                    try files.append("shared.log", Array(text.utf8))
                    try files.write("own-\(w).txt", at: UInt64(i * record), Array(text.utf8))
                } catch {
                    XCTFail("writer \(w) record \(i): \(error)")
                }
            }
        }
        let shared = String(decoding: try files.readAll("shared.log"), as: UTF8.self)
        let lines = shared.split(separator: "\n")
        XCTAssertEqual(lines.count, writers * perWriter)
        XCTAssertTrue(lines.allSatisfy { $0.count == record - 1 && $0.hasPrefix("writer ") })
        XCTAssertEqual(Set(lines).count, writers * perWriter)
        for w in 0..<writers {
            let own = String(decoding: try files.readAll("own-\(w).txt"), as: UTF8.self).split(separator: "\n")
            XCTAssertEqual(own.count, perWriter)
            XCTAssertTrue(own.enumerated().allSatisfy { $0.element.hasPrefix(String(format: "writer %d record %05d", w, $0.offset)) })
        }
    }

    func testStreamedCopyManyTimesTheAStack() throws {
        let files = try boot()
        let size = 24 * FileInterface.chunkCapacity + 12345
        let original = randomBytes(size)
        XCTAssertEqual(try files.upload(original, to: "backup/blob.bin", durable: true), UInt64(size))
        XCTAssertEqual(try files.readAll("backup/blob.bin"), original)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root + "/backup"), ["blob.bin"])

        // nkctl cp, both ways, through its own client domain.
        let local = kernel.directory + "/local.bin", back = kernel.directory + "/back.bin"
        FileManager.default.createFile(atPath: local, contents: Data(original.reversed()))
        let up = try KernelHarness.run([KernelHarness.nkctl, "cp", "--socket", kernel.socketPath, local, "file:copies/c.bin"], timeout: 60)
        XCTAssertEqual(up.status, 0, up.output)
        let down = try KernelHarness.run([KernelHarness.nkctl, "cp", "--socket", kernel.socketPath, "file:copies/c.bin", back], timeout: 60)
        XCTAssertEqual(down.status, 0, down.output)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: back)), Data(original.reversed()))
        // A destination ending in "/" names a directory, as with cp.
        let intoDirectory = try KernelHarness.run([KernelHarness.nkctl, "cp", "--socket", kernel.socketPath, local, "file:copies/"], timeout: 60)
        XCTAssertEqual(intoDirectory.status, 0, intoDirectory.output)
        XCTAssertEqual(try files.stat("copies/local.bin").size, UInt64(size))
        // So does one that is a directory already, on either side.
        try files.mkdir("existing")
        let intoExisting = try KernelHarness.run([KernelHarness.nkctl, "cp", "--socket", kernel.socketPath, local, "file:existing"], timeout: 60)
        XCTAssertEqual(intoExisting.status, 0, intoExisting.output)
        XCTAssertEqual(try files.stat("existing/local.bin").size, UInt64(size))
        let outOfService = try KernelHarness.run([KernelHarness.nkctl, "cp", "--socket", kernel.socketPath, "file:copies/c.bin", kernel.directory], timeout: 60)
        XCTAssertEqual(outOfService.status, 0, outOfService.output)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: kernel.directory + "/c.bin")), Data(original.reversed()))
        let bad = try KernelHarness.run([KernelHarness.nkctl, "cp", "--socket", kernel.socketPath, local, back], timeout: 20)
        XCTAssertEqual(bad.status, 2)
    }

    /// The protocol names every file and offset, so a client made from a connection
    /// streams on across a restart of the file service: the chunk in flight when the
    /// service was killed is sent again to its successor, and the copy is exact.
    func testAStreamedCopySurvivesARestartOfTheService() throws {
        try boot()
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let files = try FileClient(importingFrom: runtime)
        let original = randomBytes(16 << 20)
        var interrupted = 0
        for round in 0..<4 where interrupted < 2 {  // within the restart budget (5)
            let victim = try kernel.domain("file").pid
            let rebindsBefore = files.connection!.rebinds
            let killer = Thread { usleep(UInt32.random(in: 1_000...15_000)); kill(victim, SIGKILL) }
            killer.start()
            let path = "restart/copy-\(round).bin"
            try files.upload(original, to: path)
            XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) { killer.isFinished })
            XCTAssertTrue(KernelHarness.waitUntil(seconds: 20) {
                (try? self.kernel.domain("file")).map { $0.pid != victim && $0.state == "ready" } ?? false
            }, "round \(round): the file service did not come back\n\(kernel.log)")
            if files.connection!.rebinds > rebindsBefore { interrupted += 1 }
            XCTAssertTrue(try files.readAll(path) == original, "round \(round): the copy differs")
        }
        XCTAssertGreaterThan(interrupted, 0, "no kill landed during a copy")
    }

    // MARK: durability

    /// A writer puts numbered records (each at its own offset, so a retry is harmless)
    /// and counts acknowledgements while the test SIGKILLs the service at random moments.
    /// After every restart each acknowledged record is present and byte-exact.
    func testAcknowledgedWritesSurviveKillingTheService() throws {
        _ = try boot()
        let record = 256
        func content(_ i: Int) -> [UInt8] {
            var text = Array(String(format: "record %08d ", i).utf8)
            var x = UInt32(truncatingIfNeeded: i &* 2_654_435_761)
            while text.count < record { x = x &* 1_103_515_245 &+ 12345; text.append(UInt8(truncatingIfNeeded: x >> 16)) }
            return text
        }
        var acked = 0
        // Every 8th record also replaces state.bin with put: after a kill it holds the last
        // acknowledged put, or the one in flight, whole.
        var lastPut: Int?, puttingNow: Int?
        for round in 0..<4 {
            let victim = try kernel.domain("file").pid
            var files = try client()
            // The kill comes from another thread, so it lands in the middle of calls.
            let killer = Thread { usleep(UInt32.random(in: 50_000...400_000)); kill(victim, SIGKILL) }
            killer.start()
            while true {
                do {
                    try files.write("records.bin", at: UInt64(acked * record), content(acked))
                    acked += 1
                    if acked % 8 == 0 {
                        puttingNow = acked
                        try files.put("state.bin", content(acked))
                        lastPut = acked
                        puttingNow = nil
                    }
                } catch {
                    guard case CallError.serverDied = error else {
                        if case CallError.refused(.staleBindingObject) = error { break }
                        XCTFail("round \(round): a call failed other than by the kill: \(error)")
                        break
                    }
                    break
                }
            }
            XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) { killer.isFinished })
            // The kernel restarts it (restart = "on-failure").
            XCTAssertTrue(KernelHarness.waitUntil(seconds: 20) {
                (try? self.kernel.domain("file")).map { $0.pid != victim && $0.state == "ready" } ?? false
            }, "round \(round): the file service did not come back\n\(kernel.log)")
            files = try client()
            let stored = try files.readAll("records.bin")
            XCTAssertGreaterThanOrEqual(stored.count, acked * record, "round \(round)")
            for i in 0..<acked where Array(stored[(i * record)..<((i + 1) * record)]) != content(i) {
                XCTFail("round \(round): acknowledged record \(i) is damaged")
                break
            }
            if let lastPut {
                let state = try files.readAll("state.bin")
                XCTAssertTrue(state == content(lastPut) || puttingNow.map { state == content($0) } ?? false,
                              "round \(round): state.bin is neither the last acknowledged put nor the one in flight")
            }
            puttingNow = nil
        }
        XCTAssertGreaterThan(acked, 20)
    }
}
