// HostSupport: what this host lets a protection domain have, probed once.
import CSandbox

/// Namespaces a domain can be given (NK_NS_* in nk_sandbox.h).
struct Namespaces: OptionSet, Sendable, Hashable {
    let rawValue: UInt32

    static let user = Namespaces(rawValue: UInt32(NK_NS_USER))
    static let pid = Namespaces(rawValue: UInt32(NK_NS_PID))
    static let net = Namespaces(rawValue: UInt32(NK_NS_NET))
    static let ipc = Namespaces(rawValue: UInt32(NK_NS_IPC))
    static let uts = Namespaces(rawValue: UInt32(NK_NS_UTS))
    static let mount = Namespaces(rawValue: UInt32(NK_NS_MOUNT))
    static let cgroup = Namespaces(rawValue: UInt32(NK_NS_CGROUP))
    static let all: Namespaces = [.user, .pid, .net, .ipc, .uts, .mount, .cgroup]
}

struct HostSupport: Sendable, Equatable {
    /// Namespaces a child really got here. Each was tried inside a new user namespace
    /// when `.user` works, so ask for them together with `.user`.
    var namespaces: Namespaces
    /// 0 when Landlock is unavailable.
    var landlockABI: Int
    /// LANDLOCK_SCOPE_SIGNAL and LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (ABI 6 and later).
    var landlockScoped: Bool
    /// Refused syscalls can be reported (seccomp user notification), not only killed.
    var seccompNotify: Bool
    /// A domain can have its own root and /proc (tried for real: a container may deny it).
    var ownRoot: Bool

    /// The probe's answer, computed on first use (it clones a few throwaway children).
    static let current = HostSupport(probing: ())

    private init(probing: Void) {
        var raw = nk_host_support()
        _ = nk_probe_host(&raw)
        namespaces = Namespaces(rawValue: raw.namespaces)
        landlockABI = Int(raw.landlock_abi)
        landlockScoped = raw.landlock_scoped != 0
        seccompNotify = raw.seccomp_notify != 0
        ownRoot = raw.own_root != 0
    }
}
