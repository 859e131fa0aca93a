// nk-file: the file service. A confined, durable file store: each client sees only the
// view the image grants it (by the name the kernel gave its binding), every path is
// checked and then resolved beneath that view with openat2, Landlock allows this domain
// its root and nothing else, and only this domain's seccomp filter allows file calls.
// See docs/file-service.md.
import Glibc
import Interfaces
import LRPC

let config: FileServiceConfig
do {
    config = try FileServiceConfig.fromEnvironment()
} catch {
    logError("file: cannot start: \(error)")
    exit(1)
}
let views = Views(config: config)
let store = FileStore(root: config.rootFD, uploadIdleSeconds: config.uploadIdleSeconds)

/// Every procedure: the caller's view (by the name the kernel gave its binding, from the
/// call record), the path checked, the store's body. Declared failures are FileErrors.
struct FileServer: FileService, Sendable {
    func stat(_ a: PathArgument, context: CallContext) throws(FileError) -> FileStat {
        try store.stat(views.view(for: context.callerName), CheckedPath(checking: a.path.text, allowRoot: true))
    }
    func list(_ a: PathArgument, context: CallContext) throws(FileError) -> ListPage {
        try store.list(views.view(for: context.callerName), CheckedPath(checking: a.path.text, allowRoot: true), cursor: 0)
    }
    func listFrom(_ a: ListArguments, context: CallContext) throws(FileError) -> ListPage {
        try store.list(views.view(for: context.callerName), CheckedPath(checking: a.path.text, allowRoot: true),
                       cursor: a.cursor)
    }
    func read(_ a: PathArgument, context: CallContext) throws(FileError) -> ReadResult {
        try store.read(views.view(for: context.callerName), CheckedPath(checking: a.path.text), offset: 0, count: 0)
    }
    func readAt(_ a: ReadArguments, context: CallContext) throws(FileError) -> ReadResult {
        try store.read(views.view(for: context.callerName), CheckedPath(checking: a.path.text),
                       offset: a.offset, count: a.count)
    }
    func write(_ a: WholeFile, context: CallContext) throws(FileError) -> WriteResult {
        try store.replace(views.view(for: context.callerName), CheckedPath(checking: a.path.text),
                          data: a.data.bytes, durable: false)
    }
    func writeAt(_ a: WriteAtArguments, context: CallContext) throws(FileError) -> WriteResult {
        try store.writeAt(views.view(for: context.callerName), CheckedPath(checking: a.path.text),
                          offset: a.offset, data: a.data.bytes)
    }
    func append(_ a: WholeFile, context: CallContext) throws(FileError) -> WriteResult {
        try store.writeAt(views.view(for: context.callerName), CheckedPath(checking: a.path.text),
                          offset: 0, data: a.data.bytes, append: true)
    }
    func truncate(_ a: TruncateArguments, context: CallContext) throws(FileError) -> WriteResult {
        try store.truncate(views.view(for: context.callerName), CheckedPath(checking: a.path.text), size: a.size)
    }
    func remove(_ a: PathArgument, context: CallContext) throws(FileError) {
        try store.remove(views.view(for: context.callerName), CheckedPath(checking: a.path.text))
    }
    func rename(_ a: RenameArguments, context: CallContext) throws(FileError) {
        try store.rename(views.view(for: context.callerName), from: CheckedPath(checking: a.from.text),
                         to: CheckedPath(checking: a.to.text))
    }
    func mkdir(_ a: PathArgument, context: CallContext) throws(FileError) {
        try store.mkdir(views.view(for: context.callerName), CheckedPath(checking: a.path.text))
    }
    func sync(_ a: PathArgument, context: CallContext) throws(FileError) {
        try store.sync(views.view(for: context.callerName), CheckedPath(checking: a.path.text, allowRoot: true))
    }
    func put(_ a: WholeFile, context: CallContext) throws(FileError) -> WriteResult {
        try store.replace(views.view(for: context.callerName), CheckedPath(checking: a.path.text),
                          data: a.data.bytes, durable: true)
    }
}

let service = FileInterface.service(FileServer())

// A killed instance may have left a temporary file between its create and its rename.
// Removed in the background: a large store must not delay the service's start. Only
// files of earlier instances are touched (the name carries the instance). Then, for as
// long as the service runs, partial uploads left idle are removed (Uploads.swift).
ServiceMain.run(service) { _ in
    try OSThread.spawn(name: "nk-file-cleanup") {
        store.removeStaleTemporaries(in: config.rootFD)
        // A quarter of the idle time between looks (at most a minute): an abandoned
        // upload goes within 1.25 times the idle time.
        let pause = min(max(config.uploadIdleSeconds * 250_000, 100_000), 60_000_000)
        while true {
            usleep(UInt32(pause))
            store.removeIdleUploads()
        }
    }
}
