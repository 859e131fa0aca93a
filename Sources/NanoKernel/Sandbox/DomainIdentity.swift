// DomainIdentity: who a domain is to the host's file permissions, and whether those
// permissions let it do something. A root kernel gives each service a host uid of its
// own, with the gid of the same number and no supplementary groups (the image's
// [kernel] domain id block, DomainIDBlock; CSandbox/spawn.c: outside_id); an ordinary
// user's kernel can map only its own ids, so it runs every domain as that user.
// Learning mode uses it to name the ownership failure before it costs a boot.
import Glibc

struct DomainIdentity: Sendable {
    let uid: uid_t
    let gid: gid_t
    let groups: [gid_t]

    /// The ids a domain spawned in `namespaces` by this process gets, `hostID` being the
    /// one the kernel chose for its service (nil: the overflow ids, as spawn.c falls back).
    static func ofDomain(namespaces: Namespaces, hostID: UInt32?) -> DomainIdentity {
        if geteuid() == 0 && namespaces.contains(.user) {
            if let hostID { return DomainIdentity(uid: hostID, gid: hostID, groups: []) }
            return DomainIdentity(uid: overflow("/proc/sys/kernel/overflowuid"),
                                  gid: overflow("/proc/sys/kernel/overflowgid"), groups: [])
        }
        var groups = [gid_t](repeating: 0, count: 256)
        let n = getgroups(Int32(groups.count), &groups)
        return DomainIdentity(uid: geteuid(), gid: getegid(), groups: Array(groups.prefix(Int(max(n, 0)))))
    }

    private static func overflow(_ file: String) -> UInt32 {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 65534 }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 16)
        let n = read(fd, &bytes, bytes.count - 1)
        return n > 0 ? UInt32(String(decoding: bytes.prefix(n), as: UTF8.self).split(separator: "\n").first ?? "") ?? 65534 : 65534
    }

    /// Whether domains of a root kernel get the ids the kernel chose for them.
    static func ownIDsApply(namespaces: Namespaces) -> Bool { geteuid() == 0 && namespaces.contains(.user) }

    enum Want: mode_t { case read = 4, write = 2, search = 1, writeAndSearch = 3 }

    /// The owner, group or other bits that apply to this identity allow `want`. Capabilities
    /// do not count: a domain holds none.
    func permits(_ st: stat, _ want: Want) -> Bool {
        let bits: mode_t
        if st.st_uid == uid { bits = (st.st_mode >> 6) & 7 }
        else if st.st_gid == gid || groups.contains(st.st_gid) { bits = (st.st_mode >> 3) & 7 }
        else { bits = st.st_mode & 7 }
        return bits & want.rawValue == want.rawValue
    }

    /// The first directory above `path` (from "/" down, `path` itself excluded) this
    /// identity cannot search.
    func unsearchableAncestor(of path: String) -> (String, stat)? {
        var directory = ""
        for part in HostPath.parent(of: path).split(separator: "/") {
            directory += "/" + part
            guard let st = HostPath.status(directory) else { return nil }
            if !permits(st, .search) { return (directory, st) }
        }
        return nil
    }

    /// "owned by 0:0 with mode 0755".
    static func describe(_ st: stat) -> String {
        let mode = String(st.st_mode & 0o7777, radix: 8)
        return "owned by \(st.st_uid):\(st.st_gid) with mode \(String(repeating: "0", count: max(0, 4 - mode.count)))\(mode)"
    }
}
