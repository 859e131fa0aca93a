// Beneath: the second confinement layer. Every open goes through openat2 relative to the
// view's directory with RESOLVE_BENEATH (no absolute paths, no "..", no escape through a
// mount), RESOLVE_NO_SYMLINKS (no symlink anywhere on the path, the last one included)
// and RESOLVE_NO_MAGICLINKS. The kernel checks each component as it walks, so a symlink
// swapped in during the call fails the lookup instead of being followed. Calls that take
// a (directory, name) pair (mkdirat, unlinkat, renameat2) get a directory opened this way
// and a single name, and act on that name itself, never on what a link there points to.
import CNanoKernel
import Glibc
import Interfaces

/// An open descriptor with one owner: closed when the owner lets go.
final class Descriptor {
    let fd: Int32
    private var owned = true
    init(_ fd: Int32) { self.fd = fd }
    deinit { if owned { close(fd) } }
    /// Hand the descriptor to another owner (fdopendir).
    func release() { owned = false }
}

enum Beneath {
    static let resolve = UInt64(NK_RESOLVE_BENEATH | NK_RESOLVE_NO_SYMLINKS | NK_RESOLVE_NO_MAGICLINKS | NK_RESOLVE_NO_XDEV)

    /// openat2 beneath `directory`; a rename racing the lookup (EAGAIN) is retried.
    static func open(_ directory: Int32, _ path: String, _ flags: Int32, mode: UInt32 = 0o600,
                     shown: @autoclosure () -> String) throws(FileError) -> Descriptor {
        // openat2 refuses what open ignores: a mode without O_CREAT, O_NOCTTY with O_PATH.
        let flags = flags | O_CLOEXEC | (flags & NK_O_PATH != 0 ? 0 : O_NOCTTY)
        let mode = flags & O_CREAT != 0 ? mode : 0
        for _ in 0..<8 {
            let fd = nk_openat2(directory, path, flags, mode, resolve)
            if fd >= 0 { return Descriptor(fd) }
            if errno != EAGAIN && errno != EINTR { throw failure(errno, shown()) }
        }
        throw FileError(.io, "\(shown()): the path kept changing during the lookup")
    }

    /// The typed error for an errno from a call on `path`.
    static func failure(_ code: Int32, _ path: String) -> FileError {
        switch code {
        case ENOENT: FileError(.notFound, "\(path) does not exist")
        case EXDEV: FileError(.outsideView, "\(path) leads outside your view")
        case ELOOP: FileError(.notRegular, "\(path) has a symbolic link on it; the file service never follows one")
        case EISDIR: FileError(.isDirectory, "\(path) is a directory")
        case ENOTDIR: FileError(.notDirectory, "a component of \(path) is not a directory")
        case EEXIST: FileError(.exists, "\(path) already exists")
        case ENOTEMPTY: FileError(.notEmpty, "\(path) is a directory that is not empty")
        case ENOSPC, EDQUOT: FileError(.noSpace, "the disk is full (writing \(path))")
        case ENAMETOOLONG: FileError(.nameTooLong, "\(path): name too long")
        case EFBIG: FileError(.tooLarge, "\(path): the file would be larger than the host allows")
        default: FileError(.io, "\(path): \(String(cString: strerror(code))) (errno \(code))")
        }
    }

    static func stat(_ fd: Int32, _ path: @autoclosure () -> String) throws(FileError) -> stat {
        var st = Glibc.stat()
        guard fstat(fd, &st) == 0 else { throw failure(errno, path()) }
        return st
    }

    /// Stat of `name` in `directory` without following it.
    static func statEntry(_ directory: Int32, _ name: String) -> stat? {
        var st = Glibc.stat()
        return fstatat(directory, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st : nil
    }

    static func isDirectory(_ st: stat) -> Bool { st.st_mode & S_IFMT == S_IFDIR }
    static func isRegular(_ st: stat) -> Bool { st.st_mode & S_IFMT == S_IFREG }

    /// pread until `count` bytes or the end of the file.
    static func readFully(_ fd: Int32, count: Int, at offset: UInt64, _ path: String) throws(FileError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if n < 0 { if errno == EINTR { continue }; throw failure(errno, path) }
            if n == 0 { break }
            done += n
        }
        buffer.removeLast(count - done)
        return buffer
    }

    /// pwrite until every byte is written.
    static func writeFully(_ fd: Int32, _ bytes: [UInt8], at offset: UInt64, _ path: String) throws(FileError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done)) }
            if n < 0 { if errno == EINTR { continue }; throw failure(errno, path) }
            done += n
        }
    }

    static func fsync(_ fd: Int32, _ path: String) throws(FileError) {
        guard Glibc.fsync(fd) == 0 else { throw failure(errno, path) }
    }
}
