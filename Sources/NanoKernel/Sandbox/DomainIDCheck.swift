// DomainIDCheck: a root kernel refuses to boot when its block of domain ids
// (DomainIDBlock) holds a host user or group: a domain would own that user's files and
// share its per-user counters. Running processes are not checked: another kernel on the
// host with the same block runs its services under the same ids, which is allowed (two
// kernels that must not share counters get different blocks in their images).
import BootImage
import Glibc

enum DomainIDCheck {
    /// The first passwd or group entry whose id lies in `block`, described; nil if none.
    static func hostEntry(in block: DomainIDBlock) -> String? {
        setpwent()
        defer { endpwent() }
        while let entry = getpwent() {
            if block.range.contains(entry.pointee.pw_uid) {
                return "user \(String(cString: entry.pointee.pw_name)) (uid \(entry.pointee.pw_uid))"
            }
        }
        setgrent()
        defer { endgrent() }
        while let entry = getgrent() {
            if block.range.contains(entry.pointee.gr_gid) {
                return "group \(String(cString: entry.pointee.gr_name)) (gid \(entry.pointee.gr_gid))"
            }
        }
        return nil
    }
}
