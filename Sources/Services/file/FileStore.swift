// FileStore: the procedures, on paths already checked (CheckedPath) and resolved beneath
// the caller's view (Beneath). Reads run concurrently; every change takes one write lock,
// so quota counts stay exact and two writers of one file land one after the other
// (write and put prepare their temporary file outside it).
//
// What an acknowledgement promises (docs/file-service.md):
//   write, writeAt, append, truncate, mkdir, remove, rename: done in the host's page
//     cache before the reply, so they survive a crash (or kill) of this service;
//   sync, put: also fsync'ed (file and directory), so they survive a crash of the machine.
import CNanoKernel
import Glibc
import Interfaces
import LRPC

final class FileStore: @unchecked Sendable {
    let quotas: Quotas
    private let writeLock = Monitor()
    /// Names this instance's temporary files, so a restarted service can remove only
    /// those an earlier instance left.
    let instance: String
    private var temporaries: UInt64 = 0
    /// Partial uploads and when each was last written; guarded by the write lock.
    let uploads: Uploads

    init(root: Int32, uploadIdleSeconds: Int) {
        quotas = Quotas(root: root)
        uploads = Uploads(idleSeconds: uploadIdleSeconds)
        instance = String(UInt64.random(in: 1...UInt64.max), radix: 16)
    }

    private func changing<T>(_ body: () throws(FileError) -> T) throws(FileError) -> T {
        do {
            return try writeLock.locked { try body() }
        } catch let error as FileError {
            throw error
        } catch {
            throw FileError(.io, "\(error)")
        }
    }

    private func rootRelative(_ view: View, _ path: CheckedPath) -> String {
        view.path.isEmpty ? path.relative : view.path + "/" + path.relative
    }

    // MARK: reading

    func stat(_ view: View, _ path: CheckedPath) throws(FileError) -> FileStat {
        let fd = try Beneath.open(view.directory.fd, path.relative, NK_O_PATH, shown: path.description)
        let st = try Beneath.stat(fd.fd, path.description)
        let kind = Beneath.isRegular(st) ? "file" : Beneath.isDirectory(st) ? "directory" : "other"
        return FileStat(kind: kind, size: UInt64(st.st_size), modifiedSeconds: Int64(st.st_mtim.tv_sec),
                        modifiedNanoseconds: Int64(st.st_mtim.tv_nsec))
    }

    func read(_ view: View, _ path: CheckedPath, offset: UInt64, count: UInt32) throws(FileError) -> ReadResult {
        let (fd, st) = try openRegular(view, path, O_RDONLY)
        let size = UInt64(st.st_size)
        guard offset <= size else {
            throw FileError(.tooLarge, "offset \(offset) is past the end of \(path) (\(size) bytes)")
        }
        let want = count == 0 ? FileInterface.chunkCapacity : min(Int(count), FileInterface.chunkCapacity)
        let data = try Beneath.readFully(fd.fd, count: want, at: offset, path.description)
        // A short read is the end too: the file may have shrunk since the fstat.
        return ReadResult(data: data, size: size, eof: data.count < want || offset + UInt64(data.count) >= size)
    }

    /// A page of entries; the cursor is the directory's own position (telldir), so a
    /// restarted service continues where the client left off.
    func list(_ view: View, _ path: CheckedPath, cursor: UInt64) throws(FileError) -> ListPage {
        let fd = try Beneath.open(view.directory.fd, path.relative, O_RDONLY | O_DIRECTORY, shown: path.description)
        guard let dir = fdopendir(fd.fd) else { throw Beneath.failure(errno, path.description) }
        fd.release()  // closedir closes it now
        defer { closedir(dir) }
        // The cursor is the directory's own position (an off_t), carried bit for bit; one
        // a client made up only makes readdir start somewhere else, or stop.
        if cursor > 0 { seekdir(dir, Int(bitPattern: UInt(cursor))) }
        var entries: [DirectoryEntry] = [], unlisted: UInt32 = 0
        var next: UInt64 = 0
        while true {
            let position = telldir(dir)
            guard let entry = readdir(dir) else { next = 0; break }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name == "." || name == ".." || name.hasPrefix(TemporaryName.prefix) { continue }
            // A name that is not UTF-8 grows when repaired: past the name limit it could
            // not travel, so it is counted with the ones no client could create.
            if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f })
                || name.utf8.count > FileInterface.nameLimit { unlisted += 1; continue }
            if entries.count == FileInterface.listEntries { next = UInt64(UInt(bitPattern: position)); break }
            let st = Beneath.statEntry(dirfd(dir), name)
            let kind = st.map { Beneath.isRegular($0) ? "file" : Beneath.isDirectory($0) ? "directory" : "other" } ?? "other"
            entries.append(DirectoryEntry(name: name, kind: kind, size: st.map { Beneath.isRegular($0) ? UInt64($0.st_size) : 0 } ?? 0))
        }
        return ListPage(entries: entries, next: next, unlisted: unlisted)
    }

    // MARK: writing in place

    func writeAt(_ view: View, _ path: CheckedPath, offset: UInt64, data: [UInt8], append: Bool = false) throws(FileError) -> WriteResult {
        try view.requireWritable()
        return try changing { () throws(FileError) -> WriteResult in
            let (fd, old, created) = try openForWriting(view, path)
            try touchIfPartial(view, path)
            let at = append ? old : offset
            guard at <= UInt64(Int64.max) - UInt64(data.count) else {
                throw FileError(.tooLarge, "offset \(at) + \(data.count) bytes is past what a file may hold")
            }
            let end = max(old, at + UInt64(data.count))
            do throws(FileError) {
                try quotas.check(view, bytes: Int64(end - old), files: 0)
                try Beneath.writeFully(fd.fd, data, at: at, path.description)
            } catch {
                // Nothing acknowledged is lost: the file goes back to its old length.
                if ftruncate(fd.fd, off_t(old)) == 0, created { _ = removeCreated(view, path) }
                throw error
            }
            quotas.charge(rootRelative(view, path), bytes: Int64(end - old), files: 0)
            return WriteResult(offset: at, size: end)
        }
    }

    func truncate(_ view: View, _ path: CheckedPath, size: UInt64) throws(FileError) -> WriteResult {
        try view.requireWritable()
        guard size <= UInt64(Int64.max) else { throw FileError(.tooLarge, "size \(size) is past what a file may hold") }
        return try changing { () throws(FileError) -> WriteResult in
            let (fd, st) = try openRegular(view, path, O_WRONLY)
            try touchIfPartial(view, path)
            let old = UInt64(st.st_size)
            try quotas.check(view, bytes: Int64(size) - Int64(old), files: 0)
            guard ftruncate(fd.fd, off_t(size)) == 0 else { throw Beneath.failure(errno, path.description) }
            quotas.charge(rootRelative(view, path), bytes: Int64(size) - Int64(old), files: 0)
            return WriteResult(offset: 0, size: size)
        }
    }

    // MARK: replacing whole files

    /// A temporary file beside the target, renamed over it: the file is the old or the
    /// new contents, never a mixture. `durable` (put) adds the fsyncs. The data is written
    /// and fsync'ed outside the write lock, so one client's put does not hold up the
    /// others: the quota is reserved first and settled against what the rename replaced.
    func replace(_ view: View, _ path: CheckedPath, data: [UInt8], durable: Bool) throws(FileError) -> WriteResult {
        try view.requireWritable()
        let name = path.name!
        let at = rootRelative(view, path)
        let (parent, reserved, temporary) = try changing { () throws(FileError) -> (Descriptor, Change, String) in
            let parent = try openParent(view, path, create: true)
            let change = try Self.replacing(Beneath.statEntry(parent.fd, name), with: data.count, path)
            try quotas.check(view, bytes: change.bytes, files: change.files)
            try touchIfPartial(view, path)
            quotas.charge(at, bytes: change.bytes, files: change.files)
            temporaries += 1
            return (parent, change, "\(TemporaryName.prefix)\(instance)-\(temporaries)")
        }
        var settled = false
        defer { if !settled { writeLock.locked { quotas.charge(at, bytes: -reserved.bytes, files: -reserved.files) } } }
        let fd = openat(parent.fd, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Beneath.failure(errno, path.description) }
        let file = Descriptor(fd)
        do throws(FileError) {
            try Beneath.writeFully(file.fd, data, at: 0, path.description)
            if durable { try Beneath.fsync(file.fd, path.description) }
            try changing { () throws(FileError) in
                // Whatever is there now is what the rename replaces.
                let change = try Self.replacing(Beneath.statEntry(parent.fd, name), with: data.count, path)
                guard nk_renameat2(parent.fd, temporary, parent.fd, name, 0) == 0 else { throw Beneath.failure(errno, path.description) }
                quotas.charge(at, bytes: change.bytes - reserved.bytes, files: change.files - reserved.files)
                settled = true
            }
        } catch {
            unlinkat(parent.fd, temporary, 0)
            throw error
        }
        if durable { try syncDirectories(view, above: path) }
        return WriteResult(offset: 0, size: UInt64(data.count))
    }

    struct Change { var bytes: Int64; var files: Int64 }

    /// What replacing `old` (nil: nothing there) with `count` bytes adds to a quota.
    private static func replacing(_ old: stat?, with count: Int, _ path: CheckedPath) throws(FileError) -> Change {
        if let old, !Beneath.isRegular(old) {
            throw Beneath.isDirectory(old) ? FileError(.isDirectory, "\(path) is a directory")
                                           : FileError(.notRegular, "\(path) is not a regular file")
        }
        return Change(bytes: Int64(count) - Int64(old?.st_size ?? 0), files: old == nil ? 1 : 0)
    }

    // MARK: names

    func mkdir(_ view: View, _ path: CheckedPath) throws(FileError) {
        try view.requireWritable()
        try changing { () throws(FileError) in
            let parent = try openParent(view, path, create: true)
            if let st = Beneath.statEntry(parent.fd, path.name!) {
                guard Beneath.isDirectory(st) else { throw FileError(.exists, "\(path) exists and is not a directory") }
                return
            }
            try quotas.check(view, bytes: 0, files: 1)
            guard mkdirat(parent.fd, path.name!, 0o700) == 0 else { throw Beneath.failure(errno, path.description) }
            quotas.charge(rootRelative(view, path), bytes: 0, files: 1)
        }
    }

    func remove(_ view: View, _ path: CheckedPath) throws(FileError) {
        try view.requireWritable()
        try changing { () throws(FileError) in
            let parent = try openParent(view, path, create: false)
            guard let st = Beneath.statEntry(parent.fd, path.name!) else { throw FileError(.notFound, "\(path) does not exist") }
            let flags = Beneath.isDirectory(st) ? AT_REMOVEDIR : 0
            guard unlinkat(parent.fd, path.name!, flags) == 0 else { throw Beneath.failure(errno, path.description) }
            quotas.charge(rootRelative(view, path), bytes: Beneath.isRegular(st) ? -Int64(st.st_size) : 0, files: -1)
            uploads.forget(rootRelative(view, path))
        }
    }

    func rename(_ view: View, from: CheckedPath, to: CheckedPath) throws(FileError) {
        try view.requireWritable()
        try changing { () throws(FileError) in
            let source = try openParent(view, from, create: false)
            guard let moving = Beneath.statEntry(source.fd, from.name!) else { throw FileError(.notFound, "\(from) does not exist") }
            let target = try openParent(view, to, create: true)
            try touchIfPartial(view, to)
            let replaced = Beneath.statEntry(target.fd, to.name!)
            if let replaced, Beneath.isDirectory(replaced) != Beneath.isDirectory(moving) {
                throw Beneath.isDirectory(replaced) ? FileError(.isDirectory, "\(to) is a directory")
                                                    : FileError(.notDirectory, "\(to) is not a directory")
            }
            guard nk_renameat2(source.fd, from.name!, target.fd, to.name!, 0) == 0 else {
                if errno == EINVAL { throw FileError(.invalidPath, "cannot move \(from) into itself") }
                throw Beneath.failure(errno, "\(from) -> \(to)")
            }
            uploads.forget(rootRelative(view, from))
            if Beneath.isDirectory(moving) { quotas.recountAll(); return }
            let size = Beneath.isRegular(moving) ? Int64(moving.st_size) : 0
            quotas.charge(rootRelative(view, from), bytes: -size, files: -1)
            quotas.charge(rootRelative(view, to), bytes: size, files: 1)
            if let replaced {
                quotas.charge(rootRelative(view, to), bytes: Beneath.isRegular(replaced) ? -Int64(replaced.st_size) : 0, files: -1)
            }
        }
    }

    /// fsync of the path (file or directory) and of every directory above it up to the
    /// view's: a file survives a power cut only if each name leading to it does too
    /// (write and put create missing parents).
    func sync(_ view: View, _ path: CheckedPath) throws(FileError) {
        let fd = try Beneath.open(view.directory.fd, path.relative, O_RDONLY | O_NONBLOCK, shown: path.description)
        try Beneath.fsync(fd.fd, path.description)
        if !path.isRoot { try syncDirectories(view, above: path) }
    }

    /// fsync of each directory from the one holding `path` up to the view's own.
    private func syncDirectories(_ view: View, above path: CheckedPath) throws(FileError) {
        var directory = path.parent
        while true {
            let fd = try Beneath.open(view.directory.fd, directory.relative, O_RDONLY | O_DIRECTORY, shown: directory.description)
            try Beneath.fsync(fd.fd, directory.description)
            if directory.isRoot { return }
            directory = directory.parent
        }
    }

    // MARK: helpers

    /// A regular file, opened without following links and without blocking on a FIFO.
    private func openRegular(_ view: View, _ path: CheckedPath, _ flags: Int32) throws(FileError) -> (Descriptor, stat) {
        let fd = try Beneath.open(view.directory.fd, path.relative, flags | O_NONBLOCK, shown: path.description)
        let st = try Beneath.stat(fd.fd, path.description)
        if Beneath.isDirectory(st) { throw FileError(.isDirectory, "\(path) is a directory") }
        if !Beneath.isRegular(st) { throw FileError(.notRegular, "\(path) is not a regular file") }
        // A second name (a hard link made on the host) may be outside the root: its
        // contents are not the view's to read or change. The service makes none itself.
        if st.st_nlink > 1 {
            throw FileError(.notRegular, "\(path) has \(st.st_nlink) names (hard links); the service opens only files with one name")
        }
        return (fd, st)
    }

    /// Open for writing with the file's size, creating the file (and its parents) when
    /// missing. The common case, an existing file, is one openat2 and one fstat.
    private func openForWriting(_ view: View, _ path: CheckedPath) throws(FileError) -> (Descriptor, size: UInt64, created: Bool) {
        do throws(FileError) {
            let (fd, st) = try openRegular(view, path, O_WRONLY)
            return (fd, UInt64(st.st_size), false)
        } catch {
            guard error.code == .notFound else { throw error }
        }
        if Uploads.isPartial(path.name!) {
            // Removed as abandoned, or never made: creating it here would hide the lost
            // start of an upload behind a hole.
            throw FileError(.notFound, "\(path) is not there: a partial upload starts with write, and one not written for \(uploads.idleNanoseconds / 1_000_000_000) s is removed")
        }
        let parent = try openParent(view, path, create: true)
        try quotas.check(view, bytes: 0, files: 1)
        let fd = try Beneath.open(parent.fd, path.name!, O_WRONLY | O_CREAT | O_EXCL, shown: path.description)
        quotas.charge(rootRelative(view, path), bytes: 0, files: 1)
        return (fd, 0, true)
    }

    private func removeCreated(_ view: View, _ path: CheckedPath) -> Bool {
        guard let parent = try? openParent(view, path, create: false),
              unlinkat(parent.fd, path.name!, 0) == 0 else { return false }
        quotas.charge(rootRelative(view, path), bytes: 0, files: -1)
        return true
    }

    /// The directory holding `path`, beneath the view; with `create`, missing parents
    /// are made (each counted against the view's file quota).
    private func openParent(_ view: View, _ path: CheckedPath, create: Bool) throws(FileError) -> Descriptor {
        let parent = path.parent
        do throws(FileError) {
            return try Beneath.open(view.directory.fd, parent.relative, NK_O_PATH | O_DIRECTORY, shown: parent.description)
        } catch {
            guard error.code == .notFound && create else { throw error }
            var current = try Beneath.open(view.directory.fd, ".", NK_O_PATH | O_DIRECTORY, shown: "your view")
            var made: [String] = []
            for name in parent.components {
                made.append(name)
                if Beneath.statEntry(current.fd, name) == nil {
                    try quotas.check(view, bytes: 0, files: 1)
                    if mkdirat(current.fd, name, 0o700) != 0 && errno != EEXIST { throw Beneath.failure(errno, made.joined(separator: "/")) }
                    quotas.charge(rootRelative(view, CheckedPath(components: made)), bytes: 0, files: 1)
                }
                current = try Beneath.open(current.fd, name, NK_O_PATH | O_DIRECTORY, shown: made.joined(separator: "/"))
            }
            return current
        }
    }

    /// Record a write to a partial upload (write lock held).
    private func touchIfPartial(_ view: View, _ path: CheckedPath) throws(FileError) {
        guard let name = path.name, Uploads.isPartial(name) else { return }
        try uploads.touch(rootRelative(view, path), view: view.path, now: monotonicNanoseconds())
    }

    /// Remove the partial uploads not written for the idle time. Returns how many went.
    @discardableResult
    func removeIdleUploads(now: UInt64 = monotonicNanoseconds()) -> Int {
        writeLock.locked {
            uploads.takeIdle(now: now).reduce(0) { $0 + (removeUpload($1) ? 1 : 0) }
        }
    }

    /// Unlink a partial upload by its path from the root, charging its view's quota.
    private func removeUpload(_ path: String) -> Bool {
        var components = path.split(separator: "/").map(String.init)
        guard let name = components.popLast(), Uploads.isPartial(name),
              let parent = try? Beneath.open(quotas.root, components.isEmpty ? "." : components.joined(separator: "/"),
                                             NK_O_PATH | O_DIRECTORY, shown: path),
              let st = Beneath.statEntry(parent.fd, name), Beneath.isRegular(st),
              unlinkat(parent.fd, name, 0) == 0 else { return false }
        quotas.charge(path, bytes: -Int64(st.st_size), files: -1)
        return true
    }

    /// Temporary files an earlier instance left behind (killed between create and rename).
    /// Partial uploads found on the way are recorded, so they go once idle.
    func removeStaleTemporaries(in directory: Int32, at path: String = "") {
        let fd = openat(directory, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0, let dir = fdopendir(fd) else { if fd >= 0 { close(fd) }; return }
        defer { closedir(dir) }
        var subdirectories: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name == "." || name == ".." { continue }
            if name.hasPrefix(TemporaryName.prefix) && !name.hasPrefix(TemporaryName.prefix + instance + "-") {
                unlinkat(dirfd(dir), name, 0)
            } else if Uploads.isPartial(name) {
                let found = path.isEmpty ? name : path + "/" + name
                writeLock.locked { uploads.found(found, now: monotonicNanoseconds()) }
            } else if entry.pointee.d_type == UInt8(DT_DIR)
                        || (entry.pointee.d_type == UInt8(DT_UNKNOWN) && Beneath.statEntry(dirfd(dir), name).map(Beneath.isDirectory) == true) {
                subdirectories.append(name)
            }
        }
        for name in subdirectories {
            let sub = openat(dirfd(dir), name, NK_O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if sub >= 0 { removeStaleTemporaries(in: sub, at: path.isEmpty ? name : path + "/" + name); close(sub) }
        }
    }
}
