// BootImage: what the kernel boots, read from a human-edited TOML file in images/.
//
// The model is plain data. `BootImage.load(path:)` (BootImageLoader.swift) parses
// and validates it; every error names the file, the line and the field.
import LRPC

/// How a domain is treated when it dies.
public enum RestartPolicy: String, Sendable, Equatable {
    case never
    case onFailure = "on-failure"
    case always
}

/// A sandbox mechanism an image can demand; boot refuses when the host lacks it.
public enum SandboxMechanism: String, Sendable, Equatable, CaseIterable {
    case userNamespace = "user-namespace"
    case pidNamespace = "pid-namespace"
    case netNamespace = "net-namespace"
    /// A root and a /proc of the domain's own (mount and pid namespaces, and the mounts
    /// they need allowed here).
    case ownRoot = "own-root"
    case landlock
    case seccompNotify = "seccomp-notify"
}

/// How far an image widens one service's sandbox, explicitly and visibly.
public struct SandboxGrant: Sendable, Equatable {
    /// The largest values the image accepts. Above them a value would stop meaning what
    /// it says (memory in bytes overflows 64 bits at 2^44 MiB; the kernel caps open files
    /// at 2^20 and pids at 2^22), so they are errors, not "no limit".
    public static let maximumMemoryMiB = 1 << 20
    public static let maximumOpenFiles = 1 << 20
    public static let maximumProcesses = 1 << 22
    /// read_only and read_write together: each is a mount in the domain's own root
    /// (CSandbox's NK_MAX_GRANTS is 64, one of which the runtime's /proc/self/maps takes).
    public static let maximumPaths = 63

    public var extraSyscalls: [String] = []
    public var readOnlyPaths: [String] = []
    public var readWritePaths: [String] = []
    /// Address-space limit in MiB.
    public var memoryLimitMiB: Int = 1024
    public var openFilesLimit: Int = 64
    /// Threads count against it (RLIMIT_NPROC): a server runs one per A-stack it serves.
    public var processesLimit: Int = 512
    /// Measurement only: run this domain with no seccomp filter.
    public var seccomp: Bool = true
    public init() {}
}

/// Which transport a binding uses for its calls (LRPC's `Transport`).
public typealias TransportKind = Transport

public struct ServiceEntry: Sendable, Equatable {
    public var name: String
    /// Executable name or path; a bare name is found next to nkctl.
    public var executable: String
    public var arguments: [String] = []
    /// Interfaces this service exports.
    public var provides: [String] = []
    /// Interfaces this service may import; the kernel refuses any other.
    public var imports: [String] = []
    public var restart: RestartPolicy = .onFailure
    /// The registry (the name service): when it restarts empty, the kernel asks every
    /// other service to register again. The image says which service it is; the kernel
    /// knows no service by its name.
    public var isRegistry = false
    /// Back-off, restart budget and hang limit ([service.supervision]).
    public var supervision = SupervisionSettings()
    public var sandbox = SandboxGrant()
    /// Set by a [service.file] table: this service is the file service (FileStoreDecoder).
    public var fileStore: FileStoreConfig?
    /// Line of the [[service]] header, for messages.
    public var line: Int = 0
    public init(name: String, executable: String) {
        self.name = name
        self.executable = executable
    }
}

public struct BootImage: Sendable, Equatable {
    /// The most services one image boots, and the longest image name.
    public static let maximumServices = 256
    public static let maximumName = 64

    /// The file it was read from.
    public var path: String
    public var name: String
    public var services: [ServiceEntry]
    /// Interfaces the operator's own client domain (nkctl call) may import.
    public var operatorImports: [String]
    /// Transport per interface for bindings made under this image (default lrpc).
    public var transports: [String: TransportKind]
    /// Mechanisms the image demands from the host.
    public var requires: [SandboxMechanism]
    /// What one domain may cause the kernel to hold ([quotas]).
    public var quotas: Quotas
    /// Default call deadline per interface in milliseconds ([deadlines]); absent: DefaultCallDeadline.defaultMilliseconds.
    public var callDeadlines: [String: Int] = [:]
    /// The host ids a root kernel gives its domains, one per service ([kernel]).
    public var domainIDs = DomainIDBlock()

    /// The deadline a client gets with its binding to `interface`.
    public func callDeadlineMilliseconds(for interface: String) -> Int {
        callDeadlines[interface] ?? DefaultCallDeadline.defaultMilliseconds
    }

    public init(path: String, name: String, services: [ServiceEntry],
                operatorImports: [String], transports: [String: TransportKind] = [:],
                requires: [SandboxMechanism] = [], quotas: Quotas = Quotas(), callDeadlines: [String: Int] = [:]) {
        self.path = path
        self.name = name
        self.services = services
        self.operatorImports = operatorImports
        self.transports = transports
        self.requires = requires
        self.quotas = quotas
        self.callDeadlines = callDeadlines
    }
}
