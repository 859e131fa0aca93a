// nkctl boot: run the kernel in the foreground (prints the boot log), or --detach:
// re-run this program as a new session and return once every service is ready.
import ArgumentParser
import BootImage
import CNanoKernel
import Foundation
import Glibc
import LRPC
import NanoKernel
import SystemPackage

struct Boot: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Boot a service set from a boot image.")
    @OptionGroup var kernel: KernelOptions
    @Option(help: "The boot image (TOML).") var image: String?
    @Flag(help: "Return once every service is up; the kernel keeps running.") var detach = false
    @Option(help: "Where bare executable names (nk-name, nk-clock) are found; default: next to nkctl.")
    var serviceDir: String?
    @Option(help: ArgumentHelp("Run this service unconfined, recording the syscalls and paths it uses that its image would refuse, and print the image lines it needs (repeatable).", valueName: "service"))
    var learn: [String] = []
    @Option(help: .hidden) var readyFd: Int32?

    func run() throws {
        let imagePath = try image ?? Self.defaultImage()
        // The kernel (and a detached one, which inherits it) reads NK_SERVICE_DIR.
        if let serviceDir { setenv("NK_SERVICE_DIR", serviceDir, 1) }
        if !learn.isEmpty { setenv("NK_LEARN", learn.joined(separator: ","), 1) }
        let bootImage: BootImage
        do { bootImage = try BootImage.load(path: imagePath) } catch { throw CommandFailed("\(error)") }
        if detach { return try runDetached(imagePath) }
        let readyFD = readyFd
        let failure = BootFailure()
        let kernelInstance: Kernel
        do {
            kernelInstance = try Kernel(image: bootImage, socketPath: kernel.socketPath) { result in
                if case .failure(let error) = result { failure.record("\(error)") }
                guard let fd = readyFD else { return }
                let line = switch result {
                case .success(let summary): "ready \(summary)\n"
                case .failure(let error): "failed \(error)\n"
                }
                _ = line.withCString { write(fd, $0, strlen($0)) }
                close(fd)
            }
        } catch {
            if let fd = readyFD { _ = "failed \(error)\n".withCString { write(fd, $0, strlen($0)) } }
            throw CommandFailed("boot failed: \(error)")
        }
        kernelInstance.run()
        // A boot that failed after the kernel started (a service that never came up) ends
        // the kernel too; the command must say so in its exit status.
        if let reason = failure.reason { throw CommandFailed("boot failed: \(reason)") }
    }

    /// images/default.toml from the working directory, else from the checkout nkctl was built in.
    static func defaultImage() throws -> String {
        var candidates = ["images/default.toml"]
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent("images/default.toml").path)
            dir = dir.deletingLastPathComponent()
        }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw ValidationError("no boot image given and images/default.toml not found; use --image FILE")
        }
        return found
    }

    /// Start the kernel as a new session with its log in a file; wait for its verdict.
    private func runDetached(_ imagePath: String) throws {
        let socketPath = kernel.socketPath
        let logPath = socketPath + ".log"
        let started = monotonicNanoseconds()
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw CommandFailed("pipe: \(String(cString: strerror(errno)))") }
        // Only the child's fd 3 (a dup, so without close-on-exec) may outlive the exec.
        fds.forEach { _ = nk_set_cloexec($0) }
        defer { close(fds[0]) }
        let executable = currentExecutablePath()
        let log: FileDescriptor
        do {
            try RuntimeFolder.prepare(forSocket: socketPath)
            log = try RuntimeFolder.openLog(logPath)
        } catch {
            close(fds[1])
            throw CommandFailed("boot failed: \(error)")
        }
        defer { try? log.close() }
        let arguments = [executable, "boot", "--image", imagePath, "--socket", socketPath, "--ready-fd", "3"]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, log.rawValue, 1)
        posix_spawn_file_actions_adddup2(&actions, log.rawValue, 2)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, 0x80)  // POSIX_SPAWN_SETSID (a GNU extension Swift does not import)
        var pid: pid_t = 0
        let argv = CStringArray(arguments)
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv.mutablePointers, environ)
        close(fds[1])
        guard status == 0 else { throw CommandFailed("cannot start the kernel: \(String(cString: strerror(status)))") }
        let verdict = readLine(fd: fds[0], timeoutSeconds: 30)
        let seconds = Double(monotonicNanoseconds() - started) / 1e9
        if let verdict, verdict.hasPrefix("ready") {
            print("kernel pid \(pid) on \(socketPath); log \(logPath)")
            print(TerminalText.line(String(verdict.dropFirst(6))) + String(format: " (boot --detach returned after %.3f s)", seconds))
        } else {
            throw CommandFailed("boot failed: \(verdict.map { String($0.dropFirst(7)) } ?? "no answer from the kernel in 30 s") (log: \(logPath))")
        }
    }
}

func readLine(fd: Int32, timeoutSeconds: Int32) -> String? {
    var bytes: [UInt8] = []
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    while poll(&p, 1, timeoutSeconds * 1000) > 0 {
        var byte: UInt8 = 0
        guard read(fd, &byte, 1) == 1 else { break }
        if byte == 10 { break }
        bytes.append(byte)
    }
    return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
}

/// The reason a boot failed, set on the kernel's thread, read once the kernel has stopped.
final class BootFailure: @unchecked Sendable {
    private let monitor = Monitor()
    private var text: String?

    func record(_ reason: String) { monitor.locked { text = reason } }
    var reason: String? { monitor.locked { text } }
}
