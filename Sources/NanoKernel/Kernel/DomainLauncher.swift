// DomainLauncher: turns an image entry into a running, sandboxed process. It probes the
// host once (which namespaces, which Landlock ABI), says plainly what is missing, and
// refuses to boot an image that demands a mechanism the host lacks.
import CNanoKernel
import CSandbox
import Glibc
import LRPC
import SystemPackage

struct LaunchedDomain {
    let pid: Int32
    let pidfd: FileDescriptor
    let notifyFD: FileDescriptor?
    let sandbox: [String: String]
}

final class DomainLauncher {
    let host: nk_host_support
    let serviceDirectory: String
    let imageDirectory: String
    private var filters: [[String]: UnsafeMutablePointer<nk_filter>] = [:]

    init(image: BootImage, log: KernelLog) throws {
        var support = nk_host_support()
        _ = nk_probe_host(&support)
        host = support
        serviceDirectory = Self.serviceDirectory()
        imageDirectory = image.path.contains("/") ? String(image.path[..<image.path.lastIndex(of: "/")!]) : "."
        let missing = Self.missingMechanisms(support)
        if !missing.isEmpty {
            log.warning("kernel: this host lacks \(missing.map(\.rawValue).joined(separator: ", ")); domains run without \(missing.count == 1 ? "it" : "them")")
        }
        let demanded = image.requires.filter(missing.contains)
        if !demanded.isEmpty {
            throw ControlError("\(image.path): the image requires \(demanded.map(\.rawValue).joined(separator: ", ")), which this host lacks")
        }
    }

    deinit {
        for filter in filters.values {
            nk_filter_free(filter)
            filter.deallocate()
        }
    }

    static func missingMechanisms(_ host: nk_host_support) -> [SandboxMechanism] {
        var missing: [SandboxMechanism] = []
        if host.namespaces & UInt32(NK_NS_USER) == 0 { missing.append(.userNamespace) }
        if host.namespaces & UInt32(NK_NS_PID) == 0 { missing.append(.pidNamespace) }
        if host.namespaces & UInt32(NK_NS_NET) == 0 { missing.append(.netNamespace) }
        if host.landlock_abi <= 0 { missing.append(.landlock) }
        if host.seccomp_notify == 0 { missing.append(.seccompNotify) }
        return missing
    }

    /// Service executables live next to nkctl unless NK_SERVICE_DIR says otherwise.
    static func serviceDirectory() -> String {
        if let dir = getenv("NK_SERVICE_DIR"), dir.pointee != 0 { return String(cString: dir) }
        let path = currentExecutablePath()
        return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
    }

    func executablePath(for entry: ServiceEntry) -> String {
        if entry.executable.hasPrefix("/") { return entry.executable }
        if entry.executable.contains("/") { return imageDirectory + "/" + entry.executable }
        return serviceDirectory + "/" + entry.executable
    }

    /// Spawn `entry` with `control` as its fd 3, under the sandbox the image grants it.
    func launch(_ entry: ServiceEntry, control: FileDescriptor) throws -> LaunchedDomain {
        let path = executablePath(for: entry)
        guard access(path, X_OK) == 0 else {
            throw ControlError("service '\(entry.name)': executable \(path) not found or not executable (build with `swift build -c release`)")
        }
        let filter = entry.sandbox.seccomp ? try filter(for: entry.sandbox.extraSyscalls) : nil
        let namespaces = host.namespaces & allNamespaces
        let arguments = [entry.name] + entry.arguments
        var environment = ["NK_DOMAIN_NAME=\(entry.name)"]
        if let spin = getenv("NK_SPIN") { environment.append("NK_SPIN=\(String(cString: spin))") }
        var out = nk_spawned()
        var error = [CChar](repeating: 0, count: 512)
        let result = withCStrings(arguments) { argv in
            withCStrings(environment) { envp in
                withCStrings(entry.sandbox.readOnlyPaths) { ro in
                    withCStrings(entry.sandbox.readWritePaths) { rw in
                        var keep: [Int32] = [control.rawValue]
                        return path.withCString { exe in
                            keep.withUnsafeBufferPointer { keepFDs in
                                var spec = nk_spawn_spec()
                                spec.executable = exe
                                spec.argv = UnsafePointer(argv)
                                spec.envp = UnsafePointer(envp)
                                spec.keep_fds = keepFDs.baseAddress
                                spec.keep_fd_count = 1
                                spec.namespaces = namespaces
                                spec.limit_address_space = UInt64(entry.sandbox.memoryLimitMiB) << 20
                                spec.limit_open_files = UInt64(entry.sandbox.openFilesLimit)
                                spec.limit_processes = UInt64(entry.sandbox.processesLimit)
                                spec.read_only_paths = constStrings(ro)
                                spec.read_only_count = Int32(entry.sandbox.readOnlyPaths.count)
                                spec.read_write_paths = constStrings(rw)
                                spec.read_write_count = Int32(entry.sandbox.readWritePaths.count)
                                spec.use_landlock = host.landlock_abi > 0 ? 1 : 0
                                spec.filter = UnsafePointer(filter)
                                return nk_spawn_domain(&spec, &out, &error, error.count)
                            }
                        }
                    }
                }
            }
        }
        guard result == 0 else {
            throw ControlError("service '\(entry.name)': cannot spawn \(path): \(String(cString: error))")
        }
        var summary: [String: String] = [
            "namespaces": namespaceNames(namespaces),
            "seccomp": filter.map { "\($0.pointee.instructions) instructions, default action \(host.seccomp_notify != 0 ? "notify+kill" : "kill")" } ?? "off",
            "landlock": host.landlock_abi > 0 ? "ABI \(host.landlock_abi)" : "unavailable",
            "limits": "address space \(entry.sandbox.memoryLimitMiB) MiB, \(entry.sandbox.openFilesLimit) files, \(entry.sandbox.processesLimit) processes",
        ]
        if !entry.sandbox.extraSyscalls.isEmpty { summary["extra_syscalls"] = entry.sandbox.extraSyscalls.joined(separator: ", ") }
        return LaunchedDomain(pid: out.pid, pidfd: FileDescriptor(rawValue: out.pidfd),
                              notifyFD: out.notify_fd >= 0 ? FileDescriptor(rawValue: out.notify_fd) : nil,
                              sandbox: summary)
    }

    private func filter(for extra: [String]) throws -> UnsafeMutablePointer<nk_filter> {
        if let cached = filters[extra] { return cached }
        let filter = UnsafeMutablePointer<nk_filter>.allocate(capacity: 1)
        filter.initialize(to: nk_filter())
        var error = [CChar](repeating: 0, count: 512)
        let r = withCStrings(extra) { names in
            nk_filter_build(constStrings(names), Int32(extra.count), filter, &error, error.count)
        }
        guard r == 0 else {
            filter.deallocate()
            throw ControlError("seccomp filter: \(String(cString: error))")
        }
        filters[extra] = filter
        return filter
    }

    private func namespaceNames(_ mask: UInt32) -> String {
        let names: [(Int, String)] = [(NK_NS_USER, "user"), (NK_NS_PID, "pid"), (NK_NS_NET, "net"), (NK_NS_IPC, "ipc"),
                                        (NK_NS_UTS, "uts"), (NK_NS_MOUNT, "mount"), (NK_NS_CGROUP, "cgroup")]
        let present = names.filter { mask & UInt32($0.0) != 0 }.map(\.1)
        return present.isEmpty ? "none" : present.joined(separator: ",")
    }
}

/// Run `body` with a NULL-terminated C array of the strings.
func withCStrings<R>(_ strings: [String], _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
}

func constStrings(_ p: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> UnsafePointer<UnsafePointer<CChar>?> {
    UnsafeRawPointer(p).assumingMemoryBound(to: UnsafePointer<CChar>?.self)
}

let allNamespaces = UInt32(NK_NS_USER | NK_NS_PID | NK_NS_NET | NK_NS_IPC | NK_NS_UTS | NK_NS_MOUNT | NK_NS_CGROUP)

/// The absolute path of the running program (/proc/self/exe).
public func currentExecutablePath() -> String {
    var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = buffer.withUnsafeMutableBufferPointer { readlink("/proc/self/exe", $0.baseAddress!, $0.count - 1) }
    return n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self) : "."
}
