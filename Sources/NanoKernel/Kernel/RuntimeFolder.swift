// RuntimeFolder: the folder holding the kernel's control socket and log. Whoever can
// write in it can replace the socket (and answer the operator's nkctl as a fake kernel)
// or plant a symbolic link where the log goes (and have the kernel append to any file).
// So it is created 0700, and an existing one is used only when it is ours and nobody else
// can write in it. The log is opened without following a symbolic link.
import Glibc
import LRPC
import SystemPackage

/// Why the kernel will not use a runtime folder or its log.
public enum RuntimeFolderError: Error, Equatable, CustomStringConvertible {
    case ownedByAnotherUser(folder: String, owner: uid_t)
    case writableByOthers(folder: String, mode: mode_t)
    case notAFolder(folder: String)
    case logNotAPlainFile(path: String)
    case system(operation: String, path: String, errno: Errno)

    public var description: String {
        switch self {
        case .ownedByAnotherUser(let folder, let owner):
            "runtime folder \(folder) belongs to uid \(owner), not to you (uid \(geteuid())): refusing to use it (remove it, or give --socket in a folder of your own)"
        case .writableByOthers(let folder, let mode):
            "runtime folder \(folder) has mode \(String(mode & 0o7777, radix: 8)): others can write in it, refusing to use it (chmod 700 \(folder), or give --socket in a private folder)"
        case .notAFolder(let folder):
            "runtime folder \(folder) is not a directory (a symbolic link?): refusing to use it"
        case .logNotAPlainFile(let path):
            "kernel log \(path) is not a plain file: refusing to write to it"
        case .system(let operation, let path, let errno):
            errno == .tooManySymbolicLinkLevels
                ? "kernel log \(path) is a symbolic link: refusing to follow it"
                : "\(operation) \(path): \(errno)"
        }
    }
}

public enum RuntimeFolder {
    /// The folder `socketPath` lives in ("." for a bare name).
    public static func folder(of socketPath: String) -> String {
        guard let slash = socketPath.lastIndex(of: "/") else { return "." }
        return slash == socketPath.startIndex ? "/" : String(socketPath[..<slash])
    }

    /// Creates the socket's folder 0700, or checks the one that exists: a real directory
    /// (not a symbolic link), owned by us, writable by nobody else.
    public static func prepare(forSocket socketPath: String) throws(RuntimeFolderError) {
        let folder = folder(of: socketPath)
        if mkdir(folder, 0o700) != 0 && errno != EEXIST {
            throw .system(operation: "mkdir", path: folder, errno: .last)
        }
        var info = stat()
        guard lstat(folder, &info) == 0 else { throw .system(operation: "lstat", path: folder, errno: .last) }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw .notAFolder(folder: folder) }
        guard info.st_uid == geteuid() else { throw .ownedByAnotherUser(folder: folder, owner: info.st_uid) }
        guard info.st_mode & 0o022 == 0 else { throw .writableByOthers(folder: folder, mode: info.st_mode) }
    }

    /// Opens (creating it 0600) the kernel's log for appending: never through a symbolic
    /// link (O_NOFOLLOW), never inherited by a domain (O_CLOEXEC), only a plain file.
    public static func openLog(_ path: String) throws(RuntimeFolderError) -> FileDescriptor {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .system(operation: "open", path: path, errno: .last) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_uid == geteuid() else {
            close(fd)
            throw .logNotAPlainFile(path: path)
        }
        return FileDescriptor(rawValue: fd)
    }
}
