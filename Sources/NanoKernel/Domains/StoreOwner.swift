// StoreOwner: a file service store written while the service ran as another uid (the
// shared 65534 of older kernels, or another slot of the domain id block) is handed to
// the service's own ids, or the service could no longer read its own files (they are
// 0600). Only entries owned by that previous uid change; nothing is followed out of the
// store (no symlink, no other file system).
import Glibc

enum StoreOwner {
    /// The deepest directory nesting walked; a deeper store is left as it is there.
    static let maximumDepth = 64

    static func handOver(_ root: String, from previous: uid_t, to identity: DomainIdentity) {
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return }
        var rootStat = stat()
        guard fstat(fd, &rootStat) == 0 else { close(fd); return }
        walk(fd, device: rootStat.st_dev, from: previous, to: identity, depth: 0)  // closes fd
    }

    /// Hands over everything beneath the open directory `fd`, then closes it.
    private static func walk(_ fd: Int32, device: dev_t, from previous: uid_t, to identity: DomainIdentity, depth: Int) {
        guard let dir = fdopendir(fd) else { close(fd); return }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            var st = stat()
            guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_dev == device else { continue }
            if st.st_uid == previous { fchownat(fd, name, identity.uid, identity.gid, AT_SYMLINK_NOFOLLOW) }
            if (st.st_mode & S_IFMT) == S_IFDIR && depth < maximumDepth {
                let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
                if child >= 0 { walk(child, device: device, from: previous, to: identity, depth: depth + 1) }
            }
        }
    }
}
