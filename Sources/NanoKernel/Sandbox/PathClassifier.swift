// PathClassifier: in learning mode, what one path a domain used would need from its
// image, compared with what a normal boot would give it.
//
// A normal boot gives a domain its own root (its executable, each grant mounted at its
// host path, a /proc of its own that shows only its processes), Landlock rights (read
// beneath read_only, read and write beneath read_write), and the host's file
// permissions of the uid it runs as. A learning domain runs on the host's root without
// Landlock, so the call can go ahead while this decides, from the host as the kernel
// sees it, what would have stopped it: not in its root (ENOENT), refused by Landlock
// (EACCES), or refused by the host's permissions (EACCES, which no grant fixes).
import Glibc

/// The two image fields that grant paths, spelled as the image spells them.
enum GrantField: String, Sendable {
    case readOnly = "read_only"
    case readWrite = "read_write"
}

/// What one path access would need, or why it would fail whatever the image says.
enum PathFinding: Sendable, Equatable {
    /// A grant to add: `path` in `field`.
    case need(GrantField, path: String, reason: String)
    /// The host's permissions refuse the domain's uid: a command that fixes it.
    case fix(path: String, command: String, reason: String)
    /// Nothing an image line can fix (a device node, the host's /proc), or a path the
    /// service only looked at.
    case note(path: String, reason: String)
}

struct PathClassifier: Sendable {
    /// Longest path recorded: longer ones are named in a note only.
    static let maximumPathBytes = 300

    /// What static glibc reads at start-up (the CPU count for sysconf and malloc) and does
    /// without in a domain, falling back to sched_getaffinity: no grant is needed.
    static let runtimeProbes: Set<String> = ["/sys/devices/system/cpu/online", "/sys/devices/system/cpu/possible"]

    private let readOnly: [String]
    private let readWrite: [String]
    private let resolvedReadable: [String]
    private let resolvedWritable: [String]
    private let executable: String
    private let resolvedExecutable: String
    let identity: DomainIdentity

    /// `readOnly` and `readWrite`: every grant the domain gets in a normal boot (the
    /// runtime's /proc/self/maps and a file service's root included).
    init(readOnly: [String], readWrite: [String], executable: String, identity: DomainIdentity) {
        self.readOnly = readOnly.map(HostPath.normalised)
        self.readWrite = readWrite.map(HostPath.normalised)
        let resolve = { (path: String) in HostPath.isWithin(path, "/proc") ? path : HostPath.resolved(path) ?? path }
        resolvedWritable = self.readWrite.map(resolve)
        resolvedReadable = self.readOnly.map(resolve) + resolvedWritable
        self.executable = HostPath.normalised(executable)
        resolvedExecutable = HostPath.resolved(executable) ?? executable
        self.identity = identity
    }

    /// What the image's read_write grants need of the host's permissions, before the
    /// domain tries anything (the ownership failure).
    func grantFindings() -> [PathFinding] {
        readWrite.filter { !HostPath.isWithin($0, "/proc") }.compactMap { grant in
            guard let st = HostPath.status(grant) else { return nil }
            let isDirectory = st.st_mode & S_IFMT == S_IFDIR
            return permissionFinding(grant, st, isDirectory ? .writeAndSearch : .write,
                                     verb: isDirectory ? "create files in it" : "write it")
        }
    }

    /// `ownPids`: the domain's pid and the calling thread's id, as the kernel sees them.
    /// nil when there is nothing to decide yet: the path does not exist (the call fails
    /// the same way on the host), so the same call may need something once it does.
    func classify(_ access: PathAccess, ownPids: [Int32]) -> [PathFinding]? {
        guard access.status == .ok else { return [] }  // a bad pointer fails on the host too
        guard let named = access.path else {
            return [.note(path: String(decoding: access.bytes.prefix(60), as: UTF8.self),
                          reason: "not UTF-8, so no image line can name it")]
        }
        guard named.utf8.count <= Self.maximumPathBytes else {
            return [.note(path: String(named.prefix(60)) + "…",
                          reason: "longer than \(Self.maximumPathBytes) bytes; not recorded")]
        }
        let path = HostPath.normalised(named)
        if Self.runtimeProbes.contains(path) { return [] }
        if HostPath.isWithin(path, "/proc") { return classifyProc(path, access, ownPids: ownPids) }
        guard let kind = effectiveKind(access, path), let resolved = resolvedPath(path, kind, access.follow) else {
            return nil
        }
        let entry = kind == .create || kind == .remove
        let lexical = entry ? HostPath.parent(of: path) : path
        let real = entry ? HostPath.parent(of: resolved) : resolved
        var findings: [PathFinding] = []
        if let finding = grantFinding(kind, path: path, lexical: lexical, real: real, resolved: resolved) {
            findings.append(finding)
        }
        if let finding = hostPermissionFinding(kind, real: real) { findings.append(finding) }
        return findings
    }

    // MARK: what the call does

    enum Kind { case see, read, write, create, remove }

    private func effectiveKind(_ access: PathAccess, _ path: String) -> Kind? {
        let exists = HostPath.status(path, follow: access.follow) != nil
        switch access.kind {
        case .open:
            let flags = access.openFlags
            if !exists { return flags & O_CREAT != 0 && parentExists(path) ? .create : nil }
            if flags & HostPath.openPath != 0 { return .see }
            return flags & O_ACCMODE != O_RDONLY || flags & O_TRUNC != 0 ? .write : .read
        case .see: return exists ? .see : nil
        case .read: return exists ? .read : nil
        case .write: return exists ? .write : nil
        case .create: return parentExists(path) ? .create : nil
        case .remove: return exists ? .remove : nil
        }
    }

    private func parentExists(_ path: String) -> Bool { HostPath.status(HostPath.parent(of: path)) != nil }

    private func resolvedPath(_ path: String, _ kind: Kind, _ follow: Bool) -> String? {
        follow && kind != .create && kind != .remove ? HostPath.resolved(path) : HostPath.resolvedParent(path)
    }

    // MARK: its own root and Landlock

    private func isUnderGrant(_ path: String) -> Bool {
        path == executable || (readOnly + readWrite).contains { HostPath.isWithin(path, $0) }
    }

    /// Its own root also holds the directories leading to each grant (empty but there).
    private func isVisible(_ path: String, lookingOnly: Bool) -> Bool {
        isUnderGrant(path) || (lookingOnly && ([executable] + readOnly + readWrite).contains { HostPath.isWithin($0, path) })
    }

    private func hasRights(_ real: String, _ kind: Kind) -> Bool {
        switch kind {
        case .see: return true  // stat and readlink need no Landlock right
        case .read: return real == resolvedExecutable || resolvedReadable.contains { HostPath.isWithin(real, $0) }
        case .write, .create, .remove: return resolvedWritable.contains { HostPath.isWithin(real, $0) }
        }
    }

    /// What the grants say of the path as named, before symlinks lead elsewhere.
    private func hasLexicalRights(_ lexical: String, _ kind: Kind) -> Bool {
        let grants = kind == .read || kind == .see ? readOnly + readWrite : readWrite
        return grants.contains { HostPath.isWithin(lexical, $0) }
    }

    private func grantFinding(_ kind: Kind, path: String, lexical: String, real: String, resolved: String) -> PathFinding? {
        let visible = isVisible(lexical, lookingOnly: kind == .see)
        if visible && hasRights(real, kind) { return nil }
        if kind == .see {
            return .note(path: path, reason: "exists on the host but not in its root (stat finds nothing); grant it read_only if the service needs it")
        }
        if kind == .read || kind == .write, let st = HostPath.status(resolved),
           st.st_mode & S_IFMT == S_IFCHR || st.st_mode & S_IFMT == S_IFBLK {
            return .note(path: path, reason: "a device node: grants are mounted nodev, so no grant lets a domain open it")
        }
        let field: GrantField = kind == .read ? .readOnly : .readWrite
        let grant = visible ? real : lexical
        let reason: String
        if !visible {
            reason = "\(HostPath.quoted(lexical)) is not in its root, which holds only its executable and its grants (ENOENT)"
        } else if real != lexical && hasLexicalRights(lexical, kind) {
            reason = "\(HostPath.quoted(path)) leads to \(HostPath.quoted(real)), outside its grants"
        } else if field == .readWrite && hasRights(real, .read) {
            reason = "\(HostPath.quoted(lexical)) is granted read_only: Landlock would refuse \(verb(kind)) (EACCES)"
        } else {
            reason = "\(HostPath.quoted(real)) is outside its grants: Landlock would refuse \(verb(kind)) (EACCES)"
        }
        return .need(field, path: grant, reason: reason)
    }

    private func verb(_ kind: Kind) -> String {
        switch kind {
        case .see: "looking"
        case .read: "reading"
        case .write: "writing"
        case .create: "creating an entry in it"
        case .remove: "removing an entry from it"
        }
    }

    // MARK: the host's permissions

    private func hostPermissionFinding(_ kind: Kind, real: String) -> PathFinding? {
        if let (directory, st) = identity.unsearchableAncestor(of: real) {
            return .fix(path: directory, command: "chmod o+x \(Self.shellWord(directory))",
                        reason: "\(HostPath.quoted(directory)) is \(DomainIdentity.describe(st)), and the domain runs as uid \(identity.uid): it cannot reach what is beneath (EACCES)")
        }
        guard let st = HostPath.status(real) else { return nil }
        switch kind {
        case .see: return nil
        case .read: return permissionFinding(real, st, .read, verb: "read it")
        case .write: return permissionFinding(real, st, .write, verb: "write it")
        case .create: return permissionFinding(real, st, .writeAndSearch, verb: "create files in it")
        case .remove: return permissionFinding(real, st, .writeAndSearch, verb: "remove files from it")
        }
    }

    private func permissionFinding(_ path: String, _ st: stat, _ want: DomainIdentity.Want, verb: String) -> PathFinding? {
        guard !identity.permits(st, want) else { return nil }
        let owned = st.st_uid == identity.uid
        let command = owned ? "chmod u+\(want == .read ? "r" : "w") \(Self.shellWord(path))"
            : want == .read ? "chmod o+r \(Self.shellWord(path))"
            : "chown \(identity.uid):\(identity.gid) \(Self.shellWord(path))"
        return .fix(path: path, command: command,
                    reason: "\(HostPath.quoted(path)) is \(DomainIdentity.describe(st)), and the domain runs as uid \(identity.uid): it cannot \(verb) (EACCES)")
    }

    /// A path as one shell word: quoted (and escaped) unless it is plain.
    static func shellWord(_ path: String) -> String {
        let plain = path.utf8.allSatisfy { b in
            (0x30...0x39).contains(b) || (0x41...0x5a).contains(b) || (0x61...0x7a).contains(b) || "/._-+".utf8.contains(b)
        }
        return plain ? path : HostPath.quoted(path)
    }

    // MARK: its own /proc

    /// Its own /proc shows only its own processes (subset=pid), and only what Landlock
    /// grants of them may be opened.
    private func classifyProc(_ path: String, _ access: PathAccess, ownPids: [Int32]) -> [PathFinding]? {
        var parts = path.split(separator: "/").map(String.init)
        guard parts.count >= 2 else {
            return access.kind == .see || isUnderGrant(path) ? []
                : [.need(.readOnly, path: path, reason: "listing its own /proc needs a grant: Landlock would refuse it (EACCES)")]
        }
        let own = parts[1] == "self" || parts[1] == "thread-self" || ownPids.map(String.init).contains(parts[1])
        guard own else {
            guard HostPath.status(path) != nil else { return nil }
            return [.note(path: path, reason: "not in a domain's own /proc, which shows only its own processes")]
        }
        parts[1] = "self"
        let mine = "/" + parts.joined(separator: "/")
        let hostPath = "/proc/\(ownPids.last ?? 0)/" + parts.dropFirst(2).joined(separator: "/")
        guard HostPath.status(hostPath, follow: access.follow) != nil else { return nil }
        let writes = access.kind == .write || access.kind == .create || access.kind == .remove ||
            (access.kind == .open && (access.openFlags & O_ACCMODE != O_RDONLY || access.openFlags & O_TRUNC != 0))
        if access.kind == .see || (access.kind == .open && access.openFlags & HostPath.openPath != 0) { return [] }
        if writes {
            return readWrite.contains { HostPath.isWithin(mine, $0) } ? []
                : [.need(.readWrite, path: mine, reason: "\(HostPath.quoted(mine)) is outside its grants: Landlock would refuse writing (EACCES)")]
        }
        return (readOnly + readWrite).contains { HostPath.isWithin(mine, $0) } ? []
            : [.need(.readOnly, path: mine, reason: "\(HostPath.quoted(mine)) is outside its grants: Landlock would refuse reading (EACCES)")]
    }
}
