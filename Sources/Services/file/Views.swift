// Views: what each client may see. The caller's name comes from the kernel (the binding's
// `.bind` message, in the call context), never from the A-stack; its grant from the image
// picks a sub-directory of the root, read-only or read-write, with its quotas. A view's
// directory is opened once, beneath the root, and every path of that client is resolved
// beneath it.
import CNanoKernel
import Glibc
import Interfaces
import LRPC

final class View {
    let grant: ViewGrant
    /// The view's directory relative to the root ("" for the root itself).
    let path: String
    let directory: Descriptor

    init(grant: ViewGrant, path: String, directory: Descriptor) {
        self.grant = grant
        self.path = path
        self.directory = directory
    }

    func requireWritable() throws(FileError) {
        guard grant.writable else { throw FileError(.readOnly, "your view (\(path.isEmpty ? "the whole store" : path + "/")) is read-only") }
    }
}

final class Views: @unchecked Sendable {
    let config: FileServiceConfig
    private let monitor = Monitor()
    /// By grant and directory, not by caller: every operator client (a new name per
    /// nkctl process) shares one view, so the open directories are bounded by the image.
    private var views: [String: View] = [:]

    init(config: FileServiceConfig) { self.config = config }

    /// The caller's view, its directory created beneath the root on first use.
    func view(for caller: String) throws(FileError) -> View {
        guard let (grant, path) = config.grant(for: caller) else {
            throw FileError(.noView, "the image grants '\(caller)' no view of the file service")
        }
        let key = "\(grant.client)\t\(path)"
        if let view = monitor.locked({ views[key] }) { return view }
        let directory = try Self.openDirectory(path, beneath: config.rootFD)
        let view = View(grant: grant, path: path, directory: directory)
        return monitor.locked {
            if let raced = views[key] { return raced }
            views[key] = view
            return view
        }
    }

    /// Opens (creating as needed) a directory below the root, component by component. A
    /// directory it makes is fsync'ed into its parent, so a view's files that are synced
    /// survive a power cut with the names above them.
    static func openDirectory(_ path: String, beneath root: Int32) throws(FileError) -> Descriptor {
        var current = try Beneath.open(root, ".", NK_O_PATH | O_DIRECTORY, shown: "the root")
        for name in path.split(separator: "/").map(String.init) {
            if mkdirat(current.fd, name, 0o700) == 0 {
                let parent = try Beneath.open(current.fd, ".", O_RDONLY | O_DIRECTORY, shown: path)
                try Beneath.fsync(parent.fd, path)
            } else if errno != EEXIST {
                throw Beneath.failure(errno, path)
            }
            current = try Beneath.open(current.fd, name, NK_O_PATH | O_DIRECTORY, shown: path)
        }
        return current
    }
}
