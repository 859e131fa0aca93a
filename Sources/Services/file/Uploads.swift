// Uploads: the partial uploads (`.upload-*`, FileClient.upload) this service has seen, and
// when each was last written, so one a client abandoned is removed instead of counting
// against its view's quota for good. The service cannot tell a dead client's partial file
// from a slow one (a client rebinds and goes on writing after a restart of this service),
// so it goes by idleness: a partial upload not written for the image's `upload_idle_s` is
// removed. One an earlier instance left is found at start and given the same time.
// A client whose partial file was removed gets `notFound` at its next write (writing in
// place never creates a partial upload), never a file with a hole in it.
//
// Bounded: at most `perView` uploads under way per view, `foundAtStart` remembered from
// disk. Only called with the store's write lock held.
import Interfaces

final class Uploads {
    struct Entry {
        /// The view that wrote it last ("" for those found at start), for the bound.
        var view: String
        var lastWrite: UInt64
    }

    static let perView = 64
    static let foundAtStart = 10_000
    let idleNanoseconds: UInt64
    /// By path relative to the root.
    private var entries: [String: Entry] = [:]
    private var found = 0

    init(idleSeconds: Int) { idleNanoseconds = UInt64(idleSeconds) * 1_000_000_000 }

    static func isPartial(_ name: String) -> Bool { name.hasPrefix(TemporaryName.uploadPrefix) }

    /// `path` (relative to the root) was just written through `view`.
    func touch(_ path: String, view: String, now: UInt64) throws(FileError) {
        if entries[path] == nil {
            let underWay = entries.values.count { $0.view == view }
            guard underWay < Self.perView else {
                throw FileError(.quotaFiles, "\(Self.perView) uploads are already under way in your view; finish or remove one first")
            }
        }
        entries[path] = Entry(view: view, lastWrite: now)
    }

    /// A partial upload an earlier instance left, found on disk at start.
    func found(_ path: String, now: UInt64) {
        guard found < Self.foundAtStart, entries[path] == nil else { return }
        found += 1
        entries[path] = Entry(view: "", lastWrite: now)
    }

    /// Renamed into place, or removed.
    func forget(_ path: String) { entries[path] = nil }

    /// Those not written for the idle time; they are forgotten here.
    func takeIdle(now: UInt64) -> [String] {
        let idle = entries.filter { now >= $0.value.lastWrite && now - $0.value.lastWrite >= idleNanoseconds }.map(\.key)
        idle.forEach { entries[$0] = nil }
        return idle
    }

    var count: Int { entries.count }
}
