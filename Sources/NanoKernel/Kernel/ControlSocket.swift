// ControlSocket: the kernel's listening Unix socket. nkctl and other operator clients
// connect here; only the kernel's own user gets in (SO_PEERCRED).
import CNanoKernel
import Glibc
import LRPC
import SystemPackage

final class ControlSocket {
    let fd: FileDescriptor
    let path: String

    init(path: String) throws {
        do { try RuntimeFolder.prepare(forSocket: path) } catch { throw ControlError("\(error)") }
        if Self.isLive(path) { throw ControlError("a kernel is already running on \(path)") }
        unlink(path)
        fd = try UnixSocket.make(path: path, operation: "listen on") { s, address, length in
            bind(s, address, length) == 0 && chmod(path, 0o600) == 0 && listen(s, 64) == 0 ? 0 : -1
        }
        self.path = path
    }

    deinit {
        try? fd.close()
        unlink(path)
    }

    /// Accept one connection; nil (and the connection closed) if its user is not ours.
    func accept(log: KernelLog) -> ControlChannel? {
        let c = Glibc.accept(fd.rawValue, nil, nil)
        guard c >= 0 else { return nil }
        _ = nk_set_cloexec(c)
        var uid: uid_t = 0
        var pid: pid_t = 0
        guard nk_peer_credentials(c, &uid, &pid) == 0, uid == getuid() else {
            log.warning("refused control connection from uid \(uid) pid \(pid): not the kernel's user")
            close(c)
            return nil
        }
        return ControlChannel(fd: FileDescriptor(rawValue: c))
    }

    /// Is some process accepting connections on `path` right now?
    static func isLive(_ path: String) -> Bool {
        guard let channel = try? ControlChannel.connect(path: path) else { return false }
        _ = channel
        return true
    }
}

/// Where the kernel listens: --socket, else NK_SOCKET, else the user's runtime directory.
public func defaultSocketPath() -> String {
    if let s = getenv("NK_SOCKET"), s.pointee != 0 { return String(cString: s) }
    if let runtime = getenv("XDG_RUNTIME_DIR"), runtime.pointee != 0 {
        return String(cString: runtime) + "/nanokernel.sock"
    }
    return "/tmp/nanokernel-\(getuid())/kernel.sock"
}
