// LearnedSandbox: what a learning domain (`nkctl boot --learn`) needed beyond its image,
// bounded, and the image lines that would give it. Owned by the domain's record; only
// the control thread touches it.
//
// Each line is the whole field (the image's own entries first, then what was learned),
// because TOML takes a key once: pasting it replaces the field.
import BootImage

struct LearnedSandbox: Sendable {
    /// Bounds on what one domain can make the kernel remember or print.
    static let maximumSyscalls = 512
    static let maximumPaths = SandboxGrant.maximumPaths
    static let maximumFixes = 16
    static let maximumNotes = 32
    static let maximumSeen = 4096
    /// A directory with this many learned files becomes one grant (each grant is a mount).
    static let filesPerDirectory = 4

    let image: SandboxGrant
    /// The syscalls its filter allows beyond the base list (the image's, a file service's).
    let filterExtras: [String]
    let classifier: PathClassifier
    private(set) var syscalls: [String] = []
    private(set) var readOnly: [String] = []
    private(set) var readWrite: [String] = []
    /// Commands that fix the host's permissions, one per path.
    private(set) var fixes: [(path: String, command: String)] = []
    private(set) var notes: [String] = []
    /// Paths past `maximumPaths` that could not be recorded.
    private(set) var droppedPaths = 0
    /// Accesses already classified: the same open a thousand times costs one look.
    private var seen: Set<String> = []

    init(image: SandboxGrant, filterExtras: [String], classifier: PathClassifier) {
        self.image = image
        self.filterExtras = filterExtras
        self.classifier = classifier
    }

    enum Recorded { case known, recorded, overflow }

    /// True when this syscall is new (and recorded).
    mutating func record(syscall name: String) -> Bool {
        guard !syscalls.contains(name), !filterExtras.contains(name),
              syscalls.count < Self.maximumSyscalls else { return false }
        syscalls.append(name)
        return true
    }

    /// The findings of this access that are new, after recording them.
    mutating func record(_ access: PathAccess, ownPids: [Int32]) -> [PathFinding] {
        let key = "\(access.kind.rawValue) \(access.openFlags & 0o1103) \(access.follow) " + String(decoding: access.bytes, as: UTF8.self)
        if seen.contains(key) { return [] }
        guard let findings = classifier.classify(access, ownPids: ownPids) else { return [] }
        if seen.count < Self.maximumSeen { seen.insert(key) }
        return findings.compactMap { finding in
            switch record(finding) {
            case .known: return nil
            case .recorded: return finding
            case .overflow:
                return .note(path: "", reason: "more than \(Self.maximumPaths) paths (an image grants at most \(SandboxGrant.maximumPaths)): the rest are not recorded")
            }
        }
    }

    mutating func record(_ finding: PathFinding) -> Recorded {
        switch finding {
        case .need(let field, let path, _):
            let covering = field == .readOnly ? readOnly + readWrite : readWrite
            guard !covering.contains(where: { HostPath.isWithin(path, $0) }) else { return .known }
            guard readOnly.count + readWrite.count < Self.maximumPaths else {
                droppedPaths += 1
                return droppedPaths == 1 ? .overflow : .known
            }
            if field == .readOnly { readOnly.append(path) } else { readWrite.append(path) }
            return .recorded
        case .fix(let path, let command, _):
            guard !fixes.contains(where: { $0.path == path }), fixes.count < Self.maximumFixes else { return .known }
            fixes.append((path, command))
            return .recorded
        case .note(let path, _):
            guard !notes.contains(path), notes.count < Self.maximumNotes else { return .known }
            notes.append(path)
            return .recorded
        }
    }

    // MARK: the lines to paste

    func line(_ field: GrantField) -> String {
        let imagePaths = field == .readOnly ? image.readOnlyPaths : image.readWritePaths
        var learned = Self.collapsed(field == .readOnly ? readOnly : readWrite)
        if field == .readOnly {
            let writable = image.readWritePaths + Self.collapsed(readWrite)
            learned.removeAll { path in writable.contains { HostPath.isWithin(path, $0) } }
        }
        learned.removeAll { path in imagePaths.contains { HostPath.isWithin(path, HostPath.normalised($0)) } }
        return "\(field.rawValue) = \(HostPath.tomlList(imagePaths + learned))"
    }

    var syscallLine: String { "extra_syscalls = \(HostPath.tomlList(image.extraSyscalls + syscalls))" }

    /// Paths within another learned path go; a directory holding `filesPerDirectory`
    /// learned paths becomes one grant (not "/" or a top-level directory such as /etc).
    static func collapsed(_ paths: [String]) -> [String] {
        var byParent: [String: Int] = [:]
        for path in paths { byParent[HostPath.parent(of: path), default: 0] += 1 }
        var out: [String] = []
        for path in paths {
            let parent = HostPath.parent(of: path)
            let grant = byParent[parent, default: 0] >= filesPerDirectory && HostPath.depth(of: parent) >= 2 ? parent : path
            if !out.contains(grant) { out.append(grant) }
        }
        return out.filter { path in !out.contains { $0 != path && HostPath.isWithin(path, $0) } }
    }

    /// What `nkctl status --json` shows in the domain's sandbox while it learns.
    var summary: [String: String] {
        var summary: [String: String] = [:]
        if !syscalls.isEmpty { summary["learned_extra_syscalls"] = syscallLine }
        if !readOnly.isEmpty { summary["learned_read_only"] = line(.readOnly) }
        if !readWrite.isEmpty { summary["learned_read_write"] = line(.readWrite) }
        if !fixes.isEmpty { summary["learned_fixes"] = fixes.map(\.command).joined(separator: "; ") }
        if !notes.isEmpty { summary["learned_notes"] = notes.map(HostPath.quoted).joined(separator: ", ") }
        return summary
    }
}
