// nkctl boot: run the kernel in the foreground (prints the boot log), or --detach:
// re-run this program as a new session and return once every service is ready.
import ArgumentParser
import BootImage
import CNanoKernel
import Foundation
import Glibc
import LRPC
import NanoKernel

struct Boot: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Boot a service set from a boot image.")
    @OptionGroup var kernel: KernelOptions
    @Option(help: "The boot image (TOML).") var image: String?
    @Flag(help: "Return once every service is up; the kernel keeps running.") var detach = false
    @Option(help: .hidden) var readyFd: Int32?

    func run() throws {
        let imagePath = try image ?? Self.defaultImage()
        let bootImage: BootImage
        do { bootImage = try BootImage.load(path: imagePath) } catch { throw CommandFailed("\(error)") }
        if detach { return try runDetached(imagePath) }
        let readyFD = readyFd
        let kernelInstance: Kernel
        do {
            kernelInstance = try Kernel(image: bootImage, socketPath: kernel.socketPath) { result in
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
        let executable = currentExecutablePath()
        try? FileManager.default.createDirectory(atPath: URL(fileURLWithPath: socketPath).deletingLastPathComponent().path,
                                                 withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let arguments = [executable, "boot", "--image", imagePath, "--socket", socketPath, "--ready-fd", "3"]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
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
        close(fds[0])
        let seconds = Double(monotonicNanoseconds() - started) / 1e9
        if let verdict, verdict.hasPrefix("ready") {
            print("kernel pid \(pid) on \(socketPath); log \(logPath)")
            print(String(verdict.dropFirst(6)) + String(format: " (boot --detach returned after %.3f s)", seconds))
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
