// TestKernel: boot a real kernel from an image for a service's tests, call into it as an
// operator domain, and shut it down with every domain gone. It drives the real nkctl
// (`boot --detach`, `shutdown`) on a private socket; every wait has a timeout.
//
//     let kernel = try TestKernel(image: "image.toml")
//     defer { kernel.shutdown() }
//     let kv = try KVClient(importing: kernel.connect())
import Foundation
import Glibc
import LRPC
import NanoAdmin

public final class TestKernel {
    public let socketPath: String
    public let nkctl: String
    private let directory: String
    private var kernelPid: Int32?

    /// nkctl from NanoKernel's build: `NK_NKCTL`, else the `.build/debug` (or release)
    /// folder of the NanoKernel checkout this package was built against.
    public static func defaultNkctl(sourceFile: String = #filePath) -> String? {
        if let env = getenv("NK_NKCTL") { return String(cString: env) }
        var dir = URL(fileURLWithPath: sourceFile).deletingLastPathComponent()
        for _ in 0..<8 {
            for config in ["debug", "release"] {
                let candidate = dir.appendingPathComponent(".build/\(config)/nkctl").path
                if access(candidate, X_OK) == 0 && access(dir.appendingPathComponent("Sources/NanoKernel").path, F_OK) == 0 {
                    return candidate
                }
            }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    /// Boot `image` and return once every service is ready; throws with the kernel's
    /// verdict and log otherwise.
    public init(image: String, nkctl: String? = nil, serviceDirectory: String? = nil, sourceFile: String = #filePath) throws {
        guard let nkctl = nkctl ?? Self.defaultNkctl(sourceFile: sourceFile) else {
            throw ControlError("nkctl not found: build NanoKernel (`swift build` in its checkout) or set NK_NKCTL")
        }
        self.nkctl = nkctl
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nk-test-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        socketPath = directory + "/kernel.sock"
        var arguments = [nkctl, "boot", "--detach", "--image", image, "--socket", socketPath]
        if let serviceDirectory { arguments += ["--service-dir", serviceDirectory] }
        let (status, output) = try Self.run(arguments, timeout: 40)
        guard status == 0 else { throw ControlError("boot failed (\(status)): \(output)\n\(log)") }
        if let range = output.range(of: "kernel pid ") { kernelPid = Int32(output[range.upperBound...].prefix { $0.isNumber }) }
    }

    /// Join the kernel as an operator domain (imports what the image's [operator] allows).
    public func connect(name: String = "test") throws -> DomainRuntime {
        try DomainRuntime.connect(socketPath: socketPath, name: name)
    }

    public func status() throws -> StatusReport {
        let runtime = try connect(name: "status")
        defer { runtime.close() }
        return try JSONDecoder().decode(StatusReport.self, from: Data(runtime.admin("status").utf8))
    }

    /// The kernel's log: boot lines, and each domain's stderr prefixed with its name.
    public var log: String { (try? String(contentsOfFile: socketPath + ".log", encoding: .utf8)) ?? "" }

    /// Shut down; returns false if a process outlived it by 10 s.
    @discardableResult
    public func shutdown() -> Bool {
        let pids = (try? status().domains.filter { $0.kind == "service" }.map(\.pid)) ?? []
        _ = try? Self.run([nkctl, "shutdown", "--socket", socketPath], timeout: 20)
        let all = pids + [kernelPid].compactMap { $0 }
        let deadline = Date().addingTimeInterval(10)
        while !all.allSatisfy(Self.hasExited) && Date() < deadline { usleep(20_000) }
        try? FileManager.default.removeItem(atPath: directory)
        return all.allSatisfy(Self.hasExited)
    }

    static func hasExited(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return true }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(close, offsetBy: 2)] == "Z"
    }

    /// Run a program with stdout and stderr in a file; killed after `timeout` seconds.
    public static func run(_ arguments: [String], timeout: Double) throws -> (status: Int32, output: String) {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("nk-run-\(UUID().uuidString)").path
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var pointers: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, &pointers, environ)
        guard spawned == 0 else { throw ControlError("cannot run \(arguments[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(timeout)
        var exited = false
        while !exited && Date() < deadline {
            exited = waitpid(pid, &status, WNOHANG) == pid
            if !exited { usleep(20_000) }
        }
        if !exited {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard exited else { return (-1, "timed out after \(timeout) s: \(arguments.joined(separator: " "))\n" + output) }
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (code, output)
    }
}
