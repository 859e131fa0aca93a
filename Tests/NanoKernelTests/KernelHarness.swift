// KernelHarness: boots a real kernel with the real nkctl (`nkctl boot --detach`) on a
// private socket, joins it as an operator client domain, and tears it all down. Every
// wait has a timeout, so a hung peer fails the test instead of hanging it.
import BootImage
import Foundation
import Glibc
import LRPC
import NanoAdmin
import NanoKernel
import NanoKernelTesting
import XCTest

final class KernelHarness {
    let directory: String
    let socketPath: String
    private(set) var bootOutput = ""
    /// The kernel booted in the foreground (`nkctl boot` without --detach), our child.
    private(set) var foregroundPid: pid_t?
    /// How that foreground kernel exited (its exit status), once it has.
    private(set) var foregroundExit: Int32?

    /// The build directory holding nkctl, the services and this test bundle.
    static let buildDirectory: String = {
        let exe = currentExecutablePath()
        return String(exe[..<exe.lastIndex(of: "/")!])
    }()

    static var nkctl: String { buildDirectory + "/nkctl" }

    static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    init() {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("nk-test-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        socketPath = directory + "/kernel.sock"
    }

    /// Boot an image (default: images/default.toml) and wait until every service is ready.
    func boot(image: String? = nil, arguments: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws {
        let imagePath = image ?? Self.repositoryRoot + "/images/default.toml"
        // The default image's file service keeps its root under the state directory: this
        // test's own (removed with it), never the user's. The kernel reads it at boot.
        setenv("XDG_STATE_HOME", directory + "/state", 1)
        let result = try Self.run([Self.nkctl, "boot", "--detach", "--image", imagePath, "--socket", socketPath] + arguments,
                                  timeout: 40)
        bootOutput = result.output
        guard result.status == 0 else {
            XCTFail("boot failed (\(result.status)): \(result.output)\n\(log)", file: file, line: line)
            throw CallError.kernelGone
        }
    }

    /// Boot in the foreground, as an operator at a terminal does: `nkctl boot` with `input`
    /// as its fd 0 and its output in a file; returns once every service answers as ready.
    func bootForeground(image: String, input: Int32, file: StaticString = #filePath, line: UInt = #line) throws {
        let outputPath = directory + "/foreground.out"  // `log` reads it
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let arguments = [Self.nkctl, "boot", "--image", image, "--socket", socketPath]
        var pointers: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, &pointers, environ)
        guard spawned == 0 else { throw ControlError("cannot run nkctl boot: \(String(cString: strerror(spawned)))") }
        foregroundPid = pid
        let ready = Self.waitUntil(seconds: 40) {
            guard let status = try? self.status() else { return false }
            return status.domains.filter { $0.kind == "service" }.allSatisfy { $0.state == "ready" }
        }
        bootOutput = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard ready else {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            foregroundPid = nil
            XCTFail("foreground boot did not come up: \(bootOutput)", file: file, line: line)
            throw CallError.kernelGone
        }
    }

    /// The default image's three services as image text; `benchExtra` is appended to
    /// bench's entry (a `[service.sandbox]` table, say).
    static func coreServices(benchExtra: String = "") -> String {
        """
        [[service]]
        name = "name"
        executable = "nk-name"
        provides = ["name"]
        registry = true

        [[service]]
        name = "clock"
        executable = "nk-clock"
        provides = ["clock"]
        imports = ["name"]

        [[service]]
        name = "bench"
        executable = "nk-bench"
        provides = ["bench"]
        imports = ["name"]
        \(benchExtra)
        """
    }

    /// The host uid and gid a root kernel gives `service` in an image of `services` under
    /// the default domain id block (DomainIDBlock).
    static func hostID(of service: String, among services: [String]) -> UInt32 {
        DomainIDBlock().ids(for: services)[service] ?? 0
    }

    /// Write an image into the test's directory.
    func writeImage(_ text: String, name: String = "image.toml") -> String {
        let path = directory + "/" + name
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    func connect() throws -> DomainRuntime {
        try DomainRuntime.connect(socketPath: socketPath, name: "test")
    }

    func status() throws -> StatusReport {
        let runtime = try connect()
        defer { runtime.close() }
        return try JSONDecoder().decode(StatusReport.self, from: Data(runtime.admin("status").utf8))
    }

    func domain(_ name: String) throws -> DomainReport {
        guard let d = try status().domains.first(where: { $0.name == name }) else {
            throw ControlError("no domain \(name)")
        }
        return d
    }

    /// The kernel's log: the detached kernel's log file, or the foreground kernel's output.
    var log: String {
        let path = foregroundPid == nil ? socketPath + ".log" : directory + "/foreground.out"
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    /// Shut the kernel down and check nothing is left behind.
    func shutdown(file: StaticString = #filePath, line: UInt = #line) {
        let pids = (try? status().domains.filter { $0.kind == "service" }.map(\.pid)) ?? []
        let kernelPid = kernelProcess()
        _ = try? Self.run([Self.nkctl, "shutdown", "--socket", socketPath], timeout: 20)
        let gone = Self.waitUntil(seconds: 10) { (pids + [kernelPid].compactMap { $0 }).allSatisfy(Self.hasExited) }
        if !gone { XCTFail("processes left behind after shutdown: \(pids) kernel \(kernelPid ?? 0)\n\(log)", file: file, line: line) }
        if let pid = foregroundPid {
            var status: Int32 = 0
            if Self.waitUntil(seconds: 10, { waitpid(pid, &status, WNOHANG) == pid }) {
                foregroundExit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            }
            foregroundPid = nil
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Gone, or a zombie waiting for init to reap it (the detached kernel is init's child).
    static func hasExited(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return true }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(close, offsetBy: 2)] == "Z"
    }

    /// The kernel's pid, from the line `nkctl boot --detach` printed.
    func kernelProcess() -> Int32? {
        if let foregroundPid { return foregroundPid }
        guard let range = bootOutput.range(of: "kernel pid ") else { return nil }
        return Int32(bootOutput[range.upperBound...].prefix { $0.isNumber })
    }

    static func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    /// Run a program with stdout and stderr in a file; kill it after `timeout` seconds.
    static func run(_ arguments: [String], timeout: Double) throws -> (status: Int32, output: String) {
        try TestKernel.run(arguments, timeout: timeout)
    }
}

/// A test case with a kernel of its own: booted from the default image before each test
/// (unless `bootsDefaultImage` is false), shut down and checked for leftovers after it.
class KernelTestCase: XCTestCase {
    var kernel: KernelHarness!
    var bootsDefaultImage: Bool { true }

    override func setUpWithError() throws {
        kernel = KernelHarness()
        if bootsDefaultImage { try kernel.boot() }
    }

    override func tearDown() {
        kernel.shutdown()
    }
}
