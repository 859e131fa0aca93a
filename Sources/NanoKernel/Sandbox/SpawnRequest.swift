// SpawnRequest and SpawnedDomain: one sandboxed service process.
//
// Call from the kernel's one long-lived spawner thread: the parent-death signal is tied
// to the thread that spawned the domain, so if that thread exits, its domains die.
import CSandbox
import Glibc

struct SpawnRequest {
    /// Absolute path of a statically linked ELF executable (not a #! script).
    var executable: String
    /// argv, argv[0] included.
    var arguments: [String]
    /// "KEY=value" entries; nothing is inherited from the kernel's environment.
    var environment: [String] = []
    /// The domain's fds 3, 4, ... in this order (each below 1000). Everything else the
    /// kernel holds is closed in the child; fd 0 is /dev/null.
    var keepFDs: [Int32] = []
    /// Becomes the domain's stdout and stderr (nil: /dev/null).
    var outputFD: Int32?
    var namespaces: Namespaces = []
    /// An empty root with only the executable, the grants and its own /proc (needs
    /// `.mount` in `namespaces`).
    var ownRoot = false
    /// 0 leaves a limit as it is. A limit is never raised above the current hard limit.
    var addressSpaceLimit: UInt64 = 0
    var openFilesLimit: UInt64 = 0
    var processesLimit: UInt64 = 0
    /// Landlock grants. The executable itself is always granted execute and read.
    var readOnlyPaths: [String] = SpawnRequest.swiftRuntimeReadOnlyPaths
    var readWritePaths: [String] = []
    var landlock = true
    /// nil runs the domain without seccomp (measurement only).
    var filter: SandboxFilter?
    /// A root kernel: the host uid and gid of the domain (its service's, DomainIDBlock);
    /// 0 = the overflow ids. An unprivileged kernel ignores it.
    var hostID: UInt32 = 0

    /// A static Swift executable's runtime finds argv by reading /proc/self/maps; under
    /// Landlock without this grant CommandLine.arguments is empty. It exposes only the
    /// domain's own memory map (the rule is made in the child, before execve).
    static let swiftRuntimeReadOnlyPaths = ["/proc/self/maps"]

    init(executable: String, arguments: [String]) {
        self.executable = executable
        self.arguments = arguments
    }
}

struct SpawnedDomain: Sendable {
    let pid: pid_t
    /// Readable when the domain has died; reap it with waitid(P_PIDFD). The caller owns it.
    let pidfd: Int32
    /// Where refused syscalls are reported (see SandboxViolation); nil without a filter or
    /// when the host kills instead of notifying. The caller owns it.
    let notifyFD: Int32?

    /// Spawns the domain. When this returns the child has already executed; when it
    /// throws, no process or fd is left behind and the message names the failing step.
    init(spawning request: SpawnRequest) throws(SandboxError) {
        let argv = CStringArray(request.arguments)
        let envp = CStringArray(request.environment)
        let readOnly = CStringArray(request.readOnlyPaths)
        let readWrite = CStringArray(request.readWritePaths)
        var out = nk_spawned()
        var error = [CChar](repeating: 0, count: 512)
        let result = request.executable.withCString { executable in
            request.keepFDs.withUnsafeBufferPointer { keep in
                var spec = nk_spawn_spec()
                spec.executable = executable
                spec.argv = argv.mutablePointers
                spec.envp = envp.mutablePointers
                spec.keep_fds = keep.baseAddress
                spec.keep_fd_count = Int32(keep.count)
                spec.capture_output = request.outputFD == nil ? 0 : 1
                spec.output_fd = request.outputFD ?? -1
                spec.namespaces = request.namespaces.rawValue
                spec.own_root = request.ownRoot ? 1 : 0
                spec.limit_address_space = request.addressSpaceLimit
                spec.limit_open_files = request.openFilesLimit
                spec.limit_processes = request.processesLimit
                spec.read_only_paths = readOnly.constPointers
                spec.read_only_count = Int32(readOnly.count)
                spec.read_write_paths = readWrite.constPointers
                spec.read_write_count = Int32(readWrite.count)
                spec.use_landlock = request.landlock ? 1 : 0
                spec.filter = UnsafePointer(request.filter?.raw)
                spec.outside_id = request.hostID
                return nk_spawn_domain(&spec, &out, &error, error.count)
            }
        }
        withExtendedLifetime((argv, envp, readOnly, readWrite, request.filter)) {}
        guard result == 0 else { throw SandboxError(stringFromCBuffer(error)) }
        pid = out.pid
        pidfd = out.pidfd
        notifyFD = out.notify_fd >= 0 ? out.notify_fd : nil
    }
}
