// BootImageTests: loading boot images, and the message each kind of mistake gets.
//
// Every malformed image is written out in full so the line numbers asserted
// below can be checked by eye.

@testable import BootImage
import XCTest

final class BootImageTests: XCTestCase {
    // MARK: Images that load

    func testDefaultImageLoads() throws {
        let path = Self.repositoryRoot + "/images/default.toml"
        let image = try BootImage.load(path: path)
        XCTAssertEqual(image.path, path)
        XCTAssertEqual(image.name, "default")
        XCTAssertEqual(image.operatorImports, ["name", "clock", "file", "bench"])
        XCTAssertEqual(image.transports, [:])
        XCTAssertEqual(image.requires, [])

        XCTAssertEqual(image.services.map(\.name), ["name", "clock", "bench", "file"])
        XCTAssertEqual(image.services.map(\.executable), ["nk-name", "nk-clock", "nk-bench", "nk-file"])
        XCTAssertEqual(image.services.map(\.provides), [["name"], ["clock"], ["bench"], ["file"]])
        XCTAssertEqual(image.services.map(\.imports), [[], ["name"], ["name"], ["name"]])
        XCTAssertEqual(image.services.map(\.restart), [.onFailure, .onFailure, .onFailure, .onFailure])
        XCTAssertEqual(image.services.map(\.line), [12, 19, 25, 33], "each service remembers its [[service]] line")
        var fileSandbox = SandboxGrant()
        fileSandbox.openFilesLimit = 256
        XCTAssertEqual(image.services.map(\.sandbox), Array(repeating: SandboxGrant(), count: 3) + [fileSandbox])
        XCTAssertEqual(image.services.map(\.arguments), [[], [], [], []])
        XCTAssertEqual(image.services.map(\.fileStore), [nil, nil, nil, FileStoreConfig(root: nil, views: [
            FileViewGrant(client: "operator", path: "", writable: true),
            FileViewGrant(client: "*", path: "apps/{client}", writable: true, maxBytes: 256 << 20, maxFiles: 10000),
        ])])
    }

    func testEveryFieldMapsToTheModel() throws {
        let image = try BootImage.parse(text: """
            [image]
            name = "full"

            [operator]
            imports = ["clock"]

            [[service]]
            name = "clock"
            executable = "/opt/nk/nk-clock"
            arguments = ["--tick", "10"]
            provides = ["clock", "alarm"]
            restart = "always"

            [service.sandbox]
            extra_syscalls = ["clock_nanosleep", "timerfd_create"]
            read_only = ['/etc/localtime']
            read_write = ["/var/lib/clock"]
            memory_mib = 64
            open_files = 16
            processes = 2
            seccomp = false

            [[service]]
            name = "alarm-bell"
            executable = "nk-bell"
            imports = ["alarm"]
            restart = "never"
            sandbox = { memory_mib = 8 }

            [transports]
            clock = "message"
            alarm = "lrpc"

            [kernel]
            requires = ["landlock", "seccomp-notify"]
            """, path: "full.toml")
        XCTAssertEqual(image.path, "full.toml")
        XCTAssertEqual(image.name, "full")
        XCTAssertEqual(image.operatorImports, ["clock"])
        XCTAssertEqual(image.transports, ["clock": .message, "alarm": .lrpc])
        XCTAssertEqual(image.requires, [.landlock, .seccompNotify])

        var clock = ServiceEntry(name: "clock", executable: "/opt/nk/nk-clock")
        clock.arguments = ["--tick", "10"]
        clock.provides = ["clock", "alarm"]
        clock.restart = .always
        clock.line = 7
        clock.sandbox.extraSyscalls = ["clock_nanosleep", "timerfd_create"]
        clock.sandbox.readOnlyPaths = ["/etc/localtime"]
        clock.sandbox.readWritePaths = ["/var/lib/clock"]
        clock.sandbox.memoryLimitMiB = 64
        clock.sandbox.openFilesLimit = 16
        clock.sandbox.processesLimit = 2
        clock.sandbox.seccomp = false

        var bell = ServiceEntry(name: "alarm-bell", executable: "nk-bell")
        bell.imports = ["alarm"]
        bell.restart = .never
        bell.line = 23
        bell.sandbox.memoryLimitMiB = 8

        XCTAssertEqual(image.services, [clock, bell])
    }

    // MARK: The file as a whole

    func testEmptyImage() {
        XCTAssertEqual(imageError("")?.description,
                       "bad.toml:1: the image is empty: it needs an [image] table and at least one [[service]]")
        XCTAssertEqual(imageError("# only a comment\n\n")?.description,
                       "bad.toml:1: the image is empty: it needs an [image] table and at least one [[service]]")
    }

    func testImageWithoutServices() {
        XCTAssertEqual(imageError("""
            [image]
            name = "lonely"
            """)?.description,
            "bad.toml:1: service: no services: an image needs at least one [[service]]")
        XCTAssertEqual(imageError("""
            service = []
            [image]
            name = "lonely"
            """)?.description,
            "bad.toml:1: service: no services: an image needs at least one [[service]]")
    }

    func testUnreadableFile() {
        do throws(ImageError) {
            _ = try BootImage.load(path: "/nonexistent/nowhere.toml")
            XCTFail("a missing file must not load")
        } catch {
            XCTAssertEqual(error.line, 0)
            XCTAssertEqual(error.description, "/nonexistent/nowhere.toml: cannot open the image: No such file or directory")
        }
    }

    func testTOMLSyntaxErrorIsAnImageError() {
        let error = imageError("""
            [image]
            name = "t"

            [[service]]
            name = "clock"
            executable = "nk-clock"
            [service.sandbox]
            memory_mib = 1.5
            """)
        XCTAssertEqual(error, ImageError(path: "bad.toml", line: 8, field: "", message: "unsupported TOML: floats (1.5)"))
        XCTAssertEqual(error?.description, "bad.toml:8: unsupported TOML: floats (1.5)")
    }

    // MARK: Unknown keys and tables

    func testUnknownFieldSuggestsTheIntendedOne() {
        let error = imageError("""
            [image]
            name = "t"

            [[service]]
            name = "clock"
            executable = "nk-clock"
            improts = ["name"]
            """)
        XCTAssertEqual(error?.line, 7)
        XCTAssertEqual(error?.field, "service 'clock'")
        XCTAssertEqual(error?.description, "bad.toml:7: service 'clock': unknown field 'improts' (did you mean 'imports'?)")
    }

    func testUnknownSandboxField() {
        XCTAssertEqual(imageError("""
            [image]
            name = "t"

            [[service]]
            name = "clock"
            executable = "nk-clock"

            [service.sandbox]
            memory = 64
            """)?.description,
            "bad.toml:9: service 'clock'.sandbox: unknown field 'memory'")
    }

    func testUnknownTable() {
        XCTAssertEqual(imageError("""
            [image]
            name = "t"

            [servce]
            name = "clock"
            """)?.description,
            "bad.toml:4: unknown table [servce] (did you mean 'service'?)")
        XCTAssertEqual(imageError("""
            [image]
            name = "t"

            [[services]]
            name = "clock"
            """)?.description,
            "bad.toml:4: unknown table [[services]] (did you mean 'service'?)")
        XCTAssertEqual(imageError("""
            name = "t"
            """)?.description,
            "bad.toml:1: unknown field 'name' outside any table")
    }

    // MARK: Types and values

    func testWrongTypes() {
        let cases: [(field: String, expected: String)] = [
            ("arguments = 5", "bad.toml:7: service 'clock'.arguments: expected an array of strings, got integer 5"),
            ("imports = \"name\"", "bad.toml:7: service 'clock'.imports: expected an array of strings, got \"name\""),
            ("provides = [\"clock\",\n  true]",
             "bad.toml:8: service 'clock'.provides: expected an array of strings, but element 2 is boolean true"),
            ("sandbox = \"strict\"", "bad.toml:7: service 'clock'.sandbox: expected a table, got \"strict\""),
            ("sandbox.seccomp = \"no\"", "bad.toml:7: service 'clock'.sandbox.seccomp: expected true or false, got \"no\""),
            ("sandbox.memory_mib = 0", "bad.toml:7: service 'clock'.sandbox.memory_mib: expected a positive integer, got integer 0"),
            ("sandbox.processes = -2", "bad.toml:7: service 'clock'.sandbox.processes: expected a positive integer, got integer -2"),
            ("sandbox.open_files = \"64\"", "bad.toml:7: service 'clock'.sandbox.open_files: expected a positive integer, got \"64\""),
        ]
        for (field, expected) in cases {
            let text = """
                [image]
                name = "t"

                [[service]]
                name = "clock"
                executable = "nk-clock"
                \(field)
                """
            XCTAssertEqual(imageError(text)?.description, expected, field)
        }
        XCTAssertEqual(imageError("[image]\nname = 5")?.description, "bad.toml:2: image.name: expected a string, got integer 5")
        XCTAssertEqual(imageError("image = \"t\"")?.description, "bad.toml:1: image: expected a table [image], got \"t\"")
    }

    func testRestartValueOutsideTheChoices() {
        let error = imageError("""
            # An image with a made-up restart policy.
            [image]
            name = "bad"

            [[service]]
            name = "name"
            executable = "nk-name"
            provides = ["name"]

            [[service]]
            name = "clock"
            restart = "sometimes"
            executable = "nk-clock"
            """, path: "images/bad.toml")
        XCTAssertEqual(error?.description,
                       #"images/bad.toml:12: service 'clock'.restart: expected one of never, on-failure, always, got "sometimes""#)
        XCTAssertEqual(imageError("""
            [image]
            name = "t"
            [[service]]
            name = "clock"
            executable = "nk-clock"
            restart = "on_failure"
            """)?.description,
            #"bad.toml:6: service 'clock'.restart: expected one of never, on-failure, always, got "on_failure" (did you mean 'on-failure'?)"#)
    }

    func testInvalidServiceName() {
        XCTAssertEqual(imageError("""
            [image]
            name = "t"

            [[service]]
            name = "Clock Service"
            executable = "nk-clock"
            """)?.description,
            #"bad.toml:5: service[1].name: expected a name matching [a-z][a-z0-9-]*, got "Clock Service""#)
    }

    func testRelativeSandboxPath() {
        XCTAssertEqual(imageError("""
            [image]
            name = "t"

            [[service]]
            name = "clock"
            executable = "nk-clock"

            [service.sandbox]
            read_only = [
                "/etc/localtime",
                "etc/timezone",
            ]
            """)?.description,
            #"bad.toml:11: service 'clock'.sandbox.read_only: expected an absolute path, got "etc/timezone""#)
    }

    func testBadSyscallName() {
        XCTAssertEqual(imageError("""
            [image]
            name = "t"
            [[service]]
            name = "clock"
            executable = "nk-clock"
            sandbox.extra_syscalls = ["clock_nanosleep", "read "]
            """)?.description,
            #"bad.toml:6: service 'clock'.sandbox.extra_syscalls: expected a system call name such as "clock_nanosleep", got "read ""#)
    }

    func testUnknownSandboxMechanism() {
        XCTAssertEqual(imageError("""
            [image]
            name = "t"

            [kernel]
            requires = ["landlok"]

            [[service]]
            name = "clock"
            executable = "nk-clock"
            """)?.description,
            #"bad.toml:5: kernel.requires: expected one of user-namespace, pid-namespace, net-namespace, own-root, landlock, seccomp-notify, got "landlok" (did you mean 'landlock'?)"#)
    }

    func testBadTransportKind() {
        XCTAssertEqual(imageError("""
            [image]
            name = "t"

            [[service]]
            name = "clock"
            executable = "nk-clock"
            provides = ["clock"]

            [transports]
            clock = "pipe"
            """)?.description,
            #"bad.toml:10: transports.clock: expected one of lrpc, message, got "pipe""#)
    }

    func testListedTwice() {
        XCTAssertEqual(imageError("""
            [image]
            name = "t"

            [[service]]
            name = "clock"
            executable = "nk-clock"
            provides = ["clock", "clock"]
            """)?.description,
            "bad.toml:7: service 'clock'.provides: 'clock' is listed twice (first on line 7)")
    }

    // MARK: Required fields

    func testMissingRequiredFieldIsReportedAtItsTableHeader() {
        let missingExecutable = imageError("""
            [image]
            name = "t"

            [[service]]
            name = "name"
            executable = "nk-name"

            [[service]]
            name = "clock"
            provides = ["clock"]
            """)
        XCTAssertEqual(missingExecutable?.line, 8)
        XCTAssertEqual(missingExecutable?.field, "service 'clock'.executable")
        XCTAssertEqual(missingExecutable?.description, "bad.toml:8: service 'clock'.executable: required field is missing")

        XCTAssertEqual(imageError("""
            [image]
            name = "t"

            [[service]]
            name = "name"
            executable = "nk-name"

            [[service]]
            executable = "nk-clock"
            """)?.description,
            "bad.toml:8: service[2].name: required field is missing")

        XCTAssertEqual(imageError("""
            # no name below

            [image]

            [[service]]
            name = "clock"
            executable = "nk-clock"
            """)?.description,
            "bad.toml:3: image.name: required field is missing")

        XCTAssertEqual(imageError("""
            [[service]]
            name = "clock"
            executable = "nk-clock"
            """)?.description,
            "bad.toml:1: image: missing required table [image]")
    }

    func testEmptyExecutable() {
        XCTAssertEqual(imageError("""
            [image]
            name = "t"
            [[service]]
            name = "clock"
            executable = ""
            """)?.description,
            "bad.toml:5: service 'clock'.executable: must not be empty")
    }

    func testServiceWrittenAsSingleTable() {
        XCTAssertEqual(imageError("""
            [image]
            name = "t"

            [service]
            name = "clock"
            executable = "nk-clock"
            """)?.description,
            "bad.toml:4: service: expected [[service]] tables (one per service), got a table")
    }

    // MARK: References between services

    func testDuplicateServiceNames() {
        XCTAssertEqual(imageError("""
            [image]
            name = "t"

            [[service]]
            name = "clock"
            executable = "nk-clock"

            [[service]]
            name = "clock"
            executable = "nk-clock2"
            """)?.description,
            "bad.toml:9: service 'clock'.name: duplicate service name 'clock' (first used on line 5)")
    }

    func testInterfaceProvidedByTwoServices() {
        XCTAssertEqual(imageError("""
            [image]
            name = "t"

            [[service]]
            name = "clock"
            executable = "nk-clock"
            provides = ["time"]

            [[service]]
            name = "ntp"
            executable = "nk-ntp"
            provides = ["ntp", "time"]
            """)?.description,
            "bad.toml:12: service 'ntp'.provides: interface 'time' is already provided by service 'clock' (line 7)")
    }

    func testServiceImportsUnprovidedInterface() {
        XCTAssertEqual(imageError("""
            [image]
            name = "t"

            [[service]]
            name = "bench"
            executable = "nk-bench"
            imports = [
                "clok",
            ]

            [[service]]
            name = "clock"
            executable = "nk-clock"
            provides = ["clock"]
            """)?.description,
            "bad.toml:8: service 'bench'.imports: no service provides interface 'clok' (did you mean 'clock'?)")
    }

    func testOperatorImportsUnprovidedInterface() {
        XCTAssertEqual(imageError("""
            [image]
            name = "t"

            [operator]
            imports = ["clock", "bench"]

            [[service]]
            name = "clock"
            executable = "nk-clock"
            provides = ["clock"]
            """)?.description,
            "bad.toml:5: operator.imports: no service provides interface 'bench'")
    }

    func testServiceImportsItsOwnInterface() {
        XCTAssertEqual(imageError("""
            [image]
            name = "t"

            [[service]]
            name = "clock"
            executable = "nk-clock"
            provides = ["clock"]
            imports = ["clock"]
            """)?.description,
            "bad.toml:8: service 'clock'.imports: service 'clock' imports its own interface 'clock'")
    }

    func testTransportForUnknownInterface() {
        XCTAssertEqual(imageError("""
            [image]
            name = "t"

            [[service]]
            name = "clock"
            executable = "nk-clock"
            provides = ["clock"]

            [transports]
            clock = "lrpc"
            bench = "message"
            """)?.description,
            "bad.toml:11: transports.bench: no service provides interface 'bench'")
    }

    // MARK: Quotas and the registry role

    func testQuotasHaveDefaultsAndTakeTheImagesValues() throws {
        let defaults = try BootImage.load(path: Self.repositoryRoot + "/images/default.toml")
        XCTAssertEqual(defaults.quotas, Quotas())
        XCTAssertEqual(defaults.services.map(\.isRegistry), [true, false, false, false], "the image names the registry")
        let image = try BootImage.parse(text: """
            [image]
            name = "q"

            [quotas]
            bindings_per_client = 10
            bindings_per_interface = 2
            pending_binds_per_client = 3
            pending_bind_seconds = 4
            operator_connections = 5
            log_lines_per_second = 6

            [[service]]
            name = "clock"
            executable = "nk-clock"
            provides = ["clock"]
            """, path: "q.toml")
        var expected = Quotas()
        expected.bindingsPerClient = 10
        expected.bindingsPerInterface = 2
        expected.pendingBindsPerClient = 3
        expected.pendingBindSeconds = 4
        expected.operatorConnections = 5
        expected.logLinesPerSecond = 6
        XCTAssertEqual(image.quotas, expected)
    }

    func testAQuotaOutOfRangeNamesFileLineAndField() {
        let text = """
            [image]
            name = "q"

            [quotas]
            bindings_per_interface = 0

            [[service]]
            name = "clock"
            executable = "nk-clock"
            """
        XCTAssertEqual(imageError(text)?.description,
                       "bad.toml:5: quotas.bindings_per_interface: expected a whole number from 1 to 1024, got integer 0")
        XCTAssertEqual(imageError(text.replacingOccurrences(of: "bindings_per_interface = 0", with: "operator_connections = 9223372036854775807"))?.description,
                       "bad.toml:5: quotas.operator_connections: expected a whole number from 1 to 1024, got integer 9223372036854775807")
        let misspelt = imageError(text.replacingOccurrences(of: "bindings_per_interface = 0", with: "bindings_per_clients = 3"))
        XCTAssertEqual(misspelt?.line, 5)
        XCTAssertTrue(misspelt?.description.contains("unknown field 'bindings_per_clients'") ?? false, misspelt?.description ?? "")
    }

    // MARK: Helpers

    /// The repository root, found from this file's path: Tests/BootImageTests/<file>.
    private static let repositoryRoot: String = {
        var components = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)
        return components.joined(separator: "/")
    }()

    private func imageError(_ text: String, path: String = "bad.toml",
                            file: StaticString = #filePath, line: UInt = #line) -> ImageError? {
        do throws(ImageError) {
            _ = try BootImage.parse(text: text, path: path)
            XCTFail("expected the image to be refused", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }
}
