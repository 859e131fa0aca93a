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

/// Every procedure: the caller's view from the kernel's context, the path checked, the body.
func serve<A, R>(_ procedure: Procedure<A, R>, on service: Service,
                 _ body: @escaping @Sendable (View, A) throws(FileError) -> R) {
    service.handle(procedure) { arguments, context in
        let view = try views.view(for: context.callerName)
        return try body(view, arguments)
    }
}

let service = Service(interface: FileInterface.name)
serve(FileInterface.stat, on: service) { view, a throws(FileError) in
    try store.stat(view, CheckedPath(checking: a.path.text, allowRoot: true))
}
serve(FileInterface.list, on: service) { view, a throws(FileError) in
    try store.list(view, CheckedPath(checking: a.path.text, allowRoot: true), cursor: 0)
}
serve(FileInterface.listFrom, on: service) { view, a throws(FileError) in
    try store.list(view, CheckedPath(checking: a.path.text, allowRoot: true), cursor: a.cursor)
}
serve(FileInterface.read, on: service) { view, a throws(FileError) in
    try store.read(view, CheckedPath(checking: a.path.text), offset: 0, count: 0)
}
serve(FileInterface.readAt, on: service) { view, a throws(FileError) in
    try store.read(view, CheckedPath(checking: a.path.text), offset: a.offset, count: a.count)
}
serve(FileInterface.write, on: service) { view, a throws(FileError) in
    try store.replace(view, CheckedPath(checking: a.path.text), data: a.data.bytes, durable: false)
}
serve(FileInterface.writeAt, on: service) { view, a throws(FileError) in
    try store.writeAt(view, CheckedPath(checking: a.path.text), offset: a.offset, data: a.data.bytes)
}
serve(FileInterface.append, on: service) { view, a throws(FileError) in
    try store.writeAt(view, CheckedPath(checking: a.path.text), offset: 0, data: a.data.bytes, append: true)
}
serve(FileInterface.truncate, on: service) { view, a throws(FileError) in
    try store.truncate(view, CheckedPath(checking: a.path.text), size: a.size)
}
serve(FileInterface.remove, on: service) { view, a throws(FileError) in
    try store.remove(view, CheckedPath(checking: a.path.text))
    return Empty()
}
serve(FileInterface.rename, on: service) { view, a throws(FileError) in
    try store.rename(view, from: CheckedPath(checking: a.from.text), to: CheckedPath(checking: a.to.text))
    return Empty()
}
serve(FileInterface.mkdir, on: service) { view, a throws(FileError) in
    try store.mkdir(view, CheckedPath(checking: a.path.text))
    return Empty()
}
serve(FileInterface.sync, on: service) { view, a throws(FileError) in
    try store.sync(view, CheckedPath(checking: a.path.text, allowRoot: true))
    return Empty()
}
serve(FileInterface.put, on: service) { view, a throws(FileError) in
    try store.replace(view, CheckedPath(checking: a.path.text), data: a.data.bytes, durable: true)
}

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
