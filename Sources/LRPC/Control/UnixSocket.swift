// UnixSocket: a SOCK_SEQPACKET socket bound to, or connected to, a filesystem path. The
// kernel listens on one; nkctl and tests connect to it.
import Glibc
import SystemPackage

public enum UnixSocket {
    /// A new socket, and `body` run with the path's address; the socket is closed if
    /// `body` fails. `operation` names the step for the error ("connect", "bind").
    public static func make(path: String, operation: String,
                            _ body: (Int32, UnsafePointer<sockaddr>, socklen_t) -> Int32) throws -> FileDescriptor {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw ControlError("socket path is too long (\(bytes.count) bytes): \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let s = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw SystemError("socket") }
        let r = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard r == 0 else {
            let e = Errno.last
            close(s)
            throw SystemError("\(operation) \(path)", e)
        }
        return FileDescriptor(rawValue: s)
    }
}
