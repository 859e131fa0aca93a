// DomainLauncher: turns an image entry into a running, sandboxed process. It probes the
// host once (which namespaces, which Landlock ABI), says plainly what is missing, and
// refuses to boot an image that demands a mechanism the host lacks. The kernel calls it
// only from its control thread, which lives as long as the kernel: the parent-death
// signal of every domain is tied to that thread.
import BootImage
import Glibc
import LRPC
import SystemPackage

struct LaunchedDomain {
    let pid: Int32
    let pidfd: FileDescriptor
    let notifyFD: FileDescriptor?
    let output: DomainOutput
    let sandbox: [String: String]
    /// Learning mode: what it needs beyond its image, recorded as it runs.
    let learned: LearnedSandbox?
}

final class DomainLauncher {
    let host = HostSupport.current
    let serviceDirectory: String
    let imageDirectory: String
    /// One compiled filter per distinct set of extra syscalls (and learning or not).
    private var filters: [FilterKey: SandboxFilter] = [:]
    private struct FilterKey: Hashable {
        let extra: [String]
        let watchPaths: Bool
    }
    /// Every service of the image, for the file service's views (FileStoreLaunch).
    let serviceNames: [String]

    /// The image's log_lines_per_second quota, for each domain's output.
    let logLinesPerSecond: Int
    /// Services run in learning mode (`nkctl boot --learn NAME`, passed as NK_LEARN):
    /// their filter's refusals are recorded and let through instead of stopping them.
    let learning: Set<String>
    /// Each service's host uid and gid under a root kernel (DomainIDBlock).
    let hostIDs: [String: UInt32]

    init(image: BootImage, log: KernelLog) throws {
        hostIDs = image.domainIDs.ids(for: image.services.map(\.name))
        logLinesPerSecond = image.quotas.logLinesPerSecond
        serviceDirectory = Self.serviceDirectory()
        serviceNames = image.services.map(\.name)
        imageDirectory = Self.absoluteDirectory(of: image.path)
        learning = Set((getenv("NK_LEARN").map { String(cString: $0) } ?? "").split(separator: ",").map(String.init))
        for name in learning where !image.services.contains(where: { $0.name == name }) {
            throw ControlError("--learn \(name): the image has no service '\(name)' (services: \(image.services.map(\.name).joined(separator: ", ")))")
        }
        if !learning.isEmpty && !host.seccompNotify {
            throw ControlError("--learn needs seccomp user notification (Linux 5.0+), which this host lacks")
        }
        let missing = missingMechanisms
        if !missing.isEmpty {
            log.warning("kernel: this host lacks \(missing.map(\.rawValue).joined(separator: ", ")); domains run without \(missing.count == 1 ? "it" : "them")")
        }
        if !host.ownRoot {
            log.warning("kernel: domains cannot have their own root and /proc here (mount and pid namespaces, tmpfs and proc mounts); they see the host's paths (stat, not open) and its processes")
        }
        if DomainIdentity.ownIDsApply(namespaces: host.namespaces), let entry = DomainIDCheck.hostEntry(in: image.domainIDs) {
            throw ControlError("\(image.path): the domain id block \(image.domainIDs.range.lowerBound)...\(image.domainIDs.range.upperBound) holds the host's \(entry); choose another with [kernel] domain_id_first and domain_id_count")
        }
        let demanded = image.requires.filter(missing.contains)
        if !demanded.isEmpty {
            throw ControlError("\(image.path): the image requires \(demanded.map(\.rawValue).joined(separator: ", ")), which this host lacks")
        }
    }

    var missingMechanisms: [SandboxMechanism] {
        var missing: [SandboxMechanism] = []
        if !host.namespaces.contains(.user) { missing.append(.userNamespace) }
        if !host.namespaces.contains(.pid) { missing.append(.pidNamespace) }
        if !host.namespaces.contains(.net) { missing.append(.netNamespace) }
        if !host.ownRoot { missing.append(.ownRoot) }
        if host.landlockABI <= 0 { missing.append(.landlock) }
        if !host.seccompNotify { missing.append(.seccompNotify) }
        return missing
    }

    /// Service executables live next to nkctl unless NK_SERVICE_DIR says otherwise.
    static func serviceDirectory() -> String {
        if let dir = getenv("NK_SERVICE_DIR"), dir.pointee != 0 { return String(cString: dir) }
        let path = currentExecutablePath()
        return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
    }

    /// The image's folder as an absolute path: relative executables resolve against it
    /// wherever nkctl was started.
    static func absoluteDirectory(of imagePath: String) -> String {
        let directory = imagePath.contains("/") ? String(imagePath[..<imagePath.lastIndex(of: "/")!]) : "."
        if imagePath.hasPrefix("/") { return directory.isEmpty ? "/" : directory }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return directory }
        let cwd = String(cString: buffer)
        return directory == "." ? cwd : cwd + "/" + directory
    }

    func executablePath(for entry: ServiceEntry) -> String {
        if entry.executable.hasPrefix("/") { return entry.executable }
        if entry.executable.contains("/") { return imageDirectory + "/" + entry.executable }
        return serviceDirectory + "/" + entry.executable
    }

    /// Spawn `entry` with `control` as its fd 3, under the sandbox the image grants it.
    func launch(_ entry: ServiceEntry, control: FileDescriptor) throws -> LaunchedDomain {
        let path = executablePath(for: entry)
        try ServiceExecutable.check(path, service: entry.name)
        let (output, outputEnd) = try DomainOutput.pipe(linesPerSecond: logLinesPerSecond)
        defer { try? outputEnd.close() }
        var request = try spawnRequest(entry, path: path, control: control)
        request.outputFD = outputEnd.rawValue
        // The file service's root: the domain holds its own copy once spawned.
        let fileRoot = try entry.fileStore.map {
            try FileStoreLaunch.prepareRoot(FileStoreLaunch.root(of: $0), for: identity(of: entry, request.namespaces))
        }
        defer { if let fileRoot { close(fileRoot) } }
        if let fileRoot, let store = entry.fileStore {
            FileStoreLaunch.widen(&request, rootFD: fileRoot, config: store, services: serviceNames)
        }
        let learned = learning.contains(entry.name) ? learnedSandbox(entry, request) : nil
        let spawned = try SpawnedDomain(spawning: request)
        return LaunchedDomain(pid: spawned.pid, pidfd: FileDescriptor(rawValue: spawned.pidfd),
                              notifyFD: spawned.notifyFD.map { FileDescriptor(rawValue: $0) },
                              output: output, sandbox: summary(of: request, entry), learned: learned)
    }

    /// Learning mode compares what the domain does with what a normal boot would grant it.
    private func learnedSandbox(_ entry: ServiceEntry, _ request: SpawnRequest) -> LearnedSandbox {
        // The file service's root is granted by descriptor (/proc/self/fd/N): compare by its path.
        let fileRoot = entry.fileStore.map { [FileStoreLaunch.root(of: $0)] } ?? []
        let readWrite = request.readWritePaths.filter { !$0.hasPrefix("/proc/self/fd/") } + fileRoot
        let classifier = PathClassifier(readOnly: request.readOnlyPaths, readWrite: readWrite,
                                        executable: request.executable,
                                        identity: identity(of: entry, request.namespaces))
        let fileCalls = entry.fileStore == nil ? [] : FileStoreLaunch.syscalls
        return LearnedSandbox(image: entry.sandbox, filterExtras: entry.sandbox.extraSyscalls + fileCalls,
                              classifier: classifier)
    }

    /// Who the domain of `entry` is to the host (its own ids under a root kernel).
    func identity(of entry: ServiceEntry, _ namespaces: Namespaces) -> DomainIdentity {
        DomainIdentity.ofDomain(namespaces: namespaces, hostID: hostIDs[entry.name])
    }

    private func spawnRequest(_ entry: ServiceEntry, path: String, control: FileDescriptor) throws -> SpawnRequest {
        var request = SpawnRequest(executable: path, arguments: [entry.name] + entry.arguments)
        // Services start with the kernel's current placement and spin.
        // Two malloc arenas, not one per thread: keeps an idle service's address space small.
        request.environment = ["NK_DOMAIN_NAME=\(entry.name)", "GLIBC_TUNABLES=glibc.malloc.arena_max=2",
                               "NK_SPIN=\(Tuning.shared.spin.spinIterations)",
                               "NK_PLACEMENT=\(Tuning.shared.placement.rawValue)"]
        request.keepFDs = [control.rawValue]
        request.namespaces = host.namespaces
        // The same id on every restart. A restart never meets the previous incarnation's
        // processes under it: the domain is the init of its pid namespace, so when it dies
        // Linux kills everything else in that namespace, and the supervisor restarts
        // it only after reaping it (its pidfd said it died). Without a pid namespace there
        // are no other processes: the domain's filter refuses fork.
        request.hostID = hostIDs[entry.name] ?? 0
        // A learning domain runs on the host's root without Landlock, so that a path it
        // needs works while the kernel records what its grants would have refused.
        let learns = learning.contains(entry.name)
        request.ownRoot = host.ownRoot && !learns
        request.addressSpaceLimit = UInt64(entry.sandbox.memoryLimitMiB) << 20
        request.openFilesLimit = UInt64(entry.sandbox.openFilesLimit)
        request.processesLimit = UInt64(entry.sandbox.processesLimit)
        request.readOnlyPaths += entry.sandbox.readOnlyPaths
        request.readWritePaths = entry.sandbox.readWritePaths
        request.landlock = host.landlockABI > 0 && !learns
        let fileCalls = entry.fileStore == nil ? [] : FileStoreLaunch.syscalls
        request.filter = entry.sandbox.seccomp || learns
            ? try filter(for: entry.sandbox.extraSyscalls + fileCalls, watchPaths: learns) : nil
        return request
    }

    private func filter(for extra: [String], watchPaths: Bool) throws -> SandboxFilter {
        let key = FilterKey(extra: extra, watchPaths: watchPaths)
        if let cached = filters[key] { return cached }
        let filter = try SandboxFilter(extraSyscalls: extra, watchPaths: watchPaths)
        filters[key] = filter
        return filter
    }

    /// What `nkctl status --json` shows of a domain's sandbox.
    private func summary(of request: SpawnRequest, _ entry: ServiceEntry) -> [String: String] {
        let names: [(Namespaces, String)] = [(.user, "user"), (.pid, "pid"), (.net, "net"), (.ipc, "ipc"),
                                             (.uts, "uts"), (.mount, "mount"), (.cgroup, "cgroup")]
        let namespaces = names.filter { request.namespaces.contains($0.0) }.map(\.1)
        var summary = [
            "namespaces": namespaces.isEmpty ? "none" : namespaces.joined(separator: ","),
            "seccomp": request.filter.map { "\($0.instructionCount) instructions, default action \($0.notifies ? "report and kill" : "kill")" } ?? "off",
            "landlock": request.landlock ? "ABI \(host.landlockABI)\(host.landlockScoped ? " (signals and abstract sockets scoped)" : "")"
                : learning.contains(entry.name) && host.landlockABI > 0 ? "off while learning" : "unavailable",
            "limits": "address space \(entry.sandbox.memoryLimitMiB) MiB, \(entry.sandbox.openFilesLimit) files, \(entry.sandbox.processesLimit) processes",
            "read_only": request.readOnlyPaths.joined(separator: ","),
            "root": request.ownRoot ? "own (executable, grants, /proc of its pid namespace)"
                : learning.contains(entry.name) && host.ownRoot ? "host's (learning)" : "host's",
        ]
        let identity = identity(of: entry, request.namespaces)
        summary["uid"] = "\(identity.uid)"
        summary["gid"] = "\(identity.gid)"
        if !request.readWritePaths.isEmpty { summary["read_write"] = request.readWritePaths.joined(separator: ",") }
        if let store = entry.fileStore {
            summary["file_root"] = FileStoreLaunch.root(of: store)
            summary["file_syscalls"] = FileStoreLaunch.syscalls.joined(separator: ",")
        }
        if !entry.sandbox.extraSyscalls.isEmpty { summary["extra_syscalls"] = entry.sandbox.extraSyscalls.joined(separator: ",") }
        if learning.contains(entry.name) {
            summary["learning"] = "refused syscalls run and are recorded, and so are the paths it uses: neither its filter, its own root nor Landlock confines this domain"
        }
        return summary
    }
}

/// The absolute path of the running program (/proc/self/exe).
public func currentExecutablePath() -> String {
    var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = buffer.withUnsafeMutableBufferPointer { readlink("/proc/self/exe", $0.baseAddress!, $0.count - 1) }
    return n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self) : "."
}
