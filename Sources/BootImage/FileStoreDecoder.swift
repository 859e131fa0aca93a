// FileStoreDecoder: a service's [service.file] table, which makes it the file service
// (docs/file-service.md): where its root is and which view of it each client gets.
//
//     [service.file]
//     root = "/srv/nanokernel/files"      # optional; default $XDG_STATE_HOME/nanokernel/files
//     [[service.file.view]]
//     client = "operator"                 # "operator", "*" (any other service) or a service name
//     path = ""                           # below the root; may use {client}
//     access = "read-write"               # or "read-only"
//     max_mib = 1024                      # optional quotas; absent = none
//     max_files = 100000
//
//     upload_idle_s = 600                 # under [service.file]: a partial upload not
//                                         # written for this long is abandoned and removed

/// The file service's configuration from the image.
public struct FileStoreConfig: Sendable, Equatable {
    /// Absolute, or nil for the default under the kernel user's state directory.
    public var root: String?
    public var views: [FileViewGrant] = []
    /// A partial upload (`.upload-*`) not written for this long is removed.
    public var uploadIdleSeconds = FileStoreConfig.defaultUploadIdleSeconds
    public static let defaultUploadIdleSeconds = 600
    static let uploadIdleRange = 1...604_800
    public init(root: String? = nil, views: [FileViewGrant] = []) {
        self.root = root
        self.views = views
    }
}

public struct FileViewGrant: Sendable, Equatable {
    public var client: String
    /// Relative to the root; "" is the whole root; "{client}" becomes the caller's name.
    public var path: String
    public var writable: Bool
    /// 0: no limit.
    public var maxBytes: UInt64 = 0
    public var maxFiles: UInt64 = 0
    public init(client: String, path: String, writable: Bool, maxBytes: UInt64 = 0, maxFiles: UInt64 = 0) {
        self.client = client
        self.path = path
        self.writable = writable
        self.maxBytes = maxBytes
        self.maxFiles = maxFiles
    }
}

enum FileAccess: String { case readOnly = "read-only", readWrite = "read-write" }

enum FileStoreDecoder {
    static let fields = ["root", "view", "upload_idle_s"]
    static let viewFields = ["client", "path", "access", "max_mib", "max_files"]
    /// Quotas up to 1 PiB and a billion files: beyond that a typo is likelier than a disk.
    static let maxMiB = 1 << 30
    static let maxFiles = 1_000_000_000

    static func decode(_ section: ImageSection) throws(ImageError) -> FileStoreConfig {
        try section.rejectUnknownKeys(allowed: fields)
        var config = FileStoreConfig()
        if let root = try section.string("root") {
            guard root.value.hasPrefix("/"), !root.value.contains("\0") else {
                throw section.failure("root", line: root.line, "expected an absolute path, got \(String(reflecting: root.value))")
            }
            config.root = root.value
        }
        config.uploadIdleSeconds = try section.integer("upload_idle_s", in: FileStoreConfig.uploadIdleRange) ?? config.uploadIdleSeconds
        guard let views = section.table["view"] else { return config }
        guard case .array(let elements) = views.kind else {
            throw section.failure("view", line: views.line, "expected [[\(section.label).view]] tables, got \(ImageSection.describe(views))")
        }
        for (position, element) in elements.enumerated() {
            guard case .table(let table) = element.kind else {
                throw section.failure("view", line: element.line, "expected a table, but element \(position + 1) is \(ImageSection.describe(element))")
            }
            let view = ImageSection(path: section.path, table: table, label: "\(section.label).view[\(position + 1)]")
            config.views.append(try decodeView(view))
        }
        return config
    }

    private static func decodeView(_ view: ImageSection) throws(ImageError) -> FileViewGrant {
        try view.rejectUnknownKeys(allowed: viewFields)
        let client = try view.requiredString("client")
        guard client.value == "operator" || client.value == "*" || ServiceEntryDecoder.isServiceName(client.value) else {
            throw view.failure("client", line: client.line, "expected \"operator\", \"*\" or a service name, got \(String(reflecting: client.value))")
        }
        let path = try view.string("path") ?? Located(value: "", line: view.table.line)
        try checkViewPath(path, in: view)
        let access = try view.choice("access", among: [FileAccess.readOnly, .readWrite]) ?? .readOnly
        var grant = FileViewGrant(client: client.value, path: path.value, writable: access == .readWrite)
        if let mib = try view.positiveInteger("max_mib", atMost: maxMiB) { grant.maxBytes = UInt64(mib) << 20 }
        if let files = try view.positiveInteger("max_files", atMost: maxFiles) { grant.maxFiles = UInt64(files) }
        return grant
    }

    /// Relative, plain names: the service opens it beneath its root one name at a time.
    private static func checkViewPath(_ path: Located<String>, in view: ImageSection) throws(ImageError) {
        if path.value.isEmpty { return }
        let bad = path.value.hasPrefix("/") || path.value.utf8.count > 512
            || path.value.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }
            || path.value.split(separator: "/", omittingEmptySubsequences: false).contains { $0.isEmpty || $0 == "." || $0 == ".." }
        if bad {
            throw view.failure("path", line: path.line,
                               "expected a relative path of plain names such as \"apps/{client}\", got \(String(reflecting: path.value))")
        }
    }
}
