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
                                description: stringFromCArray(raw.description), id: raw.id)
    }

    /// Learning mode: let the call run as if allowed. False if the domain's thread is
    /// gone (it died, or a signal interrupted the call).
    func allow(on fd: Int32) -> Bool { nk_violation_continue(fd, id) == 0 }
}
