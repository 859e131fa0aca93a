// SandboxViolation: a syscall a domain's filter refused, as the kernel reports it.
import CSandbox
import Glibc

struct SandboxViolation: Sendable, CustomStringConvertible {
    let pid: pid_t
    /// "socket"; for a 32-bit or x32 call, the name in that ABI.
    let syscallName: String
    /// One line with decoded arguments, e.g. "socket(AF_INET, SOCK_STREAM, 0)" or
    /// "i386 syscall 20 (getpid)".
    let description: String
    /// The notification, for `allow(on:)`.
    let id: UInt64
    /// The notification as received: its syscall number and arguments, for `paths(on:)`.
    let raw: nk_violation

    /// Blocks until the domain behind `fd` (a SpawnedDomain's notifyFD) makes a refused
    /// call. The call is left unanswered, so the domain's thread stays blocked in it:
    /// kill the domain (pidfd_send_signal) right after, and the kill ends it. Throws with
    /// errno ENOENT when the domain died before its report could be read.
    static func receive(from fd: Int32) throws(SandboxError) -> SandboxViolation {
        var raw = nk_violation()
        while nk_violation_receive(fd, &raw) != 0 {
            let code = errno
            if code == EINTR { continue }
            throw SandboxError("reading a seccomp notification: \(String(cString: strerror(code)))",
                               errno: code)
        }
        return SandboxViolation(pid: raw.pid, syscallName: stringFromCArray(raw.syscall_name),
                                description: stringFromCArray(raw.description), id: raw.id, raw: raw)
    }

    /// Learning mode: let the call run as if allowed. False if the domain's thread is
    /// gone (it died, or a signal interrupted the call).
    func allow(on fd: Int32) -> Bool { nk_violation_continue(fd, id) == 0 }

    /// Learning mode: answer the call with `error` instead of running it.
    func refuse(on fd: Int32, error: Int32) -> Bool { nk_violation_refuse(fd, id, error) == 0 }

    /// True when the base allow-list allows this call outright (learning mode sees such
    /// calls only for the paths they name).
    var baseFilterAllows: Bool { nk_filter_base_allows(raw.syscall_nr) != 0 }

    /// Learning mode: the paths this call names, made absolute by the C side; nil when
    /// the notification is gone (the thread died), so nothing read may be trusted.
    func paths(on fd: Int32) -> [PathAccess]? {
        guard nk_is_path_syscall(raw.syscall_nr) != 0 else { return [] }
        let accesses = UnsafeMutablePointer<nk_path_access>.allocate(capacity: 2)
        defer { accesses.deallocate() }
        var call = raw
        let count = nk_learn_paths(&call, fd, accesses)
        guard count >= 0 else { return nil }
        return (0..<Int(count)).map { PathAccess(accesses[$0]) }
    }
}

/// One path a call named, as the domain named it (absolute, not yet normalised).
struct PathAccess: Sendable {
    enum Kind: Int32, Sendable { case see = 1, read, write, open, create, remove }
    enum Status: Int32, Sendable { case ok = 0, none, unreadable, unresolved }

    let kind: Kind
    let status: Status
    /// nil when the bytes are not UTF-8 (no image line can name such a path).
    let path: String?
    let bytes: [UInt8]
    let follow: Bool
    let openFlags: Int32

    init(_ raw: nk_path_access) {
        kind = Kind(rawValue: raw.access) ?? .see
        status = Status(rawValue: raw.status) ?? .unreadable
        bytes = withUnsafeBytes(of: raw.path) { Array($0.prefix { $0 != 0 }) }
        path = String(validating: bytes, as: UTF8.self)
        follow = raw.follow != 0
        openFlags = Int32(truncatingIfNeeded: raw.flags)
    }
}
