// FileStoreLaunch: what the kernel does for the service whose image entry has a
// [service.file] table (the file service, docs/file-service.md). It prepares the root
// (created 0700; when the kernel runs as root, owned by the file service's own uid and
// gid, DomainIdentity, because that uid cannot traverse root's home to reach it; what a
// store written under another owner holds is handed over too), opens it and hands the
// domain the open directory as fd 4, so the domain needs no path to it. Landlock grants
// read-write beneath that directory and nothing else new; the file system calls join
// this domain's seccomp filter only.
import BootImage
import Glibc
import LRPC

enum FileStoreLaunch {
    /// The calls the file service makes beyond the base filter. No other domain gets them.
    static let syscalls = ["openat2", "mkdirat", "unlinkat", "renameat2", "ftruncate", "fsync",
                           "pread64", "pwrite64", "getdents64"]
    /// The fd the root arrives on: keep_fds[1] (the control channel is keep_fds[0], fd 3).
    static let rootFD: Int32 = 4

    /// `$XDG_STATE_HOME/nanokernel/files`, else `$HOME/.local/state/nanokernel/files`.
    static func root(of config: FileStoreConfig) -> String {
        if let root = config.root { return root }
        if let state = getenv("XDG_STATE_HOME").map({ String(cString: $0) }), state.hasPrefix("/") {
            return state + "/nanokernel/files"
        }
        let home = getenv("HOME").map { String(cString: $0) } ?? "/tmp"
        return home + "/.local/state/nanokernel/files"
    }

    /// Creates the root (and missing parents, 0700), gives it to the domain's uid, and
    /// opens it. The caller closes the descriptor once the domain is spawned.
    static func prepareRoot(_ path: String, for identity: DomainIdentity) throws -> Int32 {
        var prefix = ""
        for name in path.split(separator: "/") {
            prefix += "/" + name
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST {
                throw ControlError("file service root \(path): cannot create \(prefix): \(String(cString: strerror(errno)))")
            }
        }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw ControlError("file service root \(path): cannot open it: \(String(cString: strerror(errno)))") }
        guard geteuid() == 0 else { return fd }
        var st = stat()
        if fstat(fd, &st) == 0 && st.st_uid != 0 && st.st_uid != identity.uid {
            StoreOwner.handOver(path, from: st.st_uid, to: identity)
        }
        if fchown(fd, identity.uid, identity.gid) != 0 || fchmod(fd, 0o700) != 0 {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ControlError("file service root \(path): cannot give it to uid \(identity.uid): \(reason)")
        }
        return fd
    }

    /// NK_FILE_CONFIG: the image's service names (so the service can tell a service
    /// caller from an operator client), the view grants, one per line, and how long a
    /// partial upload may stay idle.
    static func configText(_ config: FileStoreConfig, services: [String]) -> String {
        var lines = services.map { "service\t\($0)" } + ["upload_idle_s\t\(config.uploadIdleSeconds)"]
        for v in config.views {
            lines.append("view\t\(v.client)\t\(v.writable ? "rw" : "ro")\t\(v.maxBytes)\t\(v.maxFiles)\t\(v.path)")
        }
        return lines.joined(separator: "\n")
    }

    /// Widens the spawn request of the file service: root fd, config, Landlock, syscalls.
    static func widen(_ request: inout SpawnRequest, rootFD fd: Int32, config: FileStoreConfig, services: [String]) {
        request.keepFDs.append(fd)
        request.environment += ["NK_FILE_ROOT_FD=\(rootFD)", "NK_FILE_CONFIG=\(configText(config, services: services))"]
        // Landlock anchors the grant at the directory the fd names, wherever it is mounted.
        request.readWritePaths.append("/proc/self/fd/\(rootFD)")
    }
}
