// Quotas: bytes and entries (files and directories) per view, as the image sets them.
// A view's usage is counted by walking its directory the first time a limited view
// writes (so a restarted service recounts what is really on disk), then kept exact by
// charging every change, under the store's write lock, to each counted view that holds
// the changed path. A change that would pass a limit is refused before anything is
// written, so a full quota damages nothing.
import CNanoKernel
import Glibc
import Interfaces

final class Quotas {
    struct Usage { var bytes: Int64; var files: Int64 }
    /// Counted usage by view directory (relative to the root); only limited views.
    private var usage: [String: Usage] = [:]
    let root: Int32

    init(root: Int32) { self.root = root }

    /// Refuse a change of `bytes`/`files` in `view` that would pass its limits.
    /// Called with the store's write lock held.
    func check(_ view: View, bytes: Int64, files: Int64) throws(FileError) {
        let grant = view.grant
        guard grant.maxBytes > 0 || grant.maxFiles > 0, bytes > 0 || files > 0 else { return }
        let now = try counted(view)
        // Compared as "more than what is left": a client's size may be near Int64.max.
        if grant.maxBytes > 0 && bytes > 0 && bytes > Self.left(grant.maxBytes, now.bytes) {
            throw FileError(.quotaBytes, "this would add \(bytes) bytes; your view's quota is \(grant.maxBytes) (\(now.bytes) in use)")
        }
        if grant.maxFiles > 0 && files > 0 && files > Self.left(grant.maxFiles, now.files) {
            throw FileError(.quotaFiles, "this would make \(now.files + files) files and directories; your view's quota is \(grant.maxFiles)")
        }
    }

    /// Record a change at `path` (relative to the root) in every counted view above it.
    func charge(_ path: String, bytes: Int64, files: Int64) {
        for key in usage.keys where key.isEmpty || path == key || path.hasPrefix(key + "/") {
            // Saturating: an unlimited client may make sparse files near Int64.max in a
            // limited view's directory.
            usage[key]!.bytes = Self.add(usage[key]!.bytes, bytes)
            usage[key]!.files = Self.add(usage[key]!.files, files)
        }
    }

    /// What a limit leaves after `used`; never overflows (limits are far below Int64.max).
    static func left(_ limit: UInt64, _ used: Int64) -> Int64 {
        used < 0 ? .max : Int64(clamping: limit) - used
    }

    static func add(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : sum
    }

    /// Forget every count (after a directory moved): each is taken again when next needed.
    func recountAll() { usage.removeAll() }

    private func counted(_ view: View) throws(FileError) -> Usage {
        if let known = usage[view.path] { return known }
        var total = Usage(bytes: 0, files: 0)
        Self.walk(view.directory.fd, into: &total)
        usage[view.path] = total
        return total
    }

    /// Sizes of regular files and the number of entries below `directory`; never follows a link.
    static func walk(_ directory: Int32, into total: inout Usage) {
        let fd = openat(directory, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0, let dir = fdopendir(fd) else { if fd >= 0 { close(fd) }; return }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name == "." || name == ".." { continue }
            guard let st = Beneath.statEntry(dirfd(dir), name) else { continue }
            total.files += 1
            if Beneath.isRegular(st) { total.bytes = add(total.bytes, Int64(st.st_size)) }
            if Beneath.isDirectory(st) {
                let sub = openat(dirfd(dir), name, NK_O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if sub >= 0 { walk(sub, into: &total); close(sub) }
            }
        }
    }
}
