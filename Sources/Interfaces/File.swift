// The file service: a confined, durable file store. Paths are relative to the caller's
// view (a sub-directory of the service's root the image grants it); every call names its
// file and offset, so a restarted service needs no client state. Payloads are bounded by
// the A-stack: `FileInterface.chunkCapacity` bytes a call; `FileClient` streams more.
import LRPC

public enum FileInterface {
    public static let name = "file"
    /// Bytes of file data one call carries (one A-stack slot holds a chunk plus a path).
    public static let chunkCapacity = 65536
    /// Bytes of a path, relative to the view; each component at most `nameLimit`.
    public static let pathCapacity = 1024
    public static let nameLimit = 255
    /// Bytes of one `list` page of entries.
    public static let listCapacity = 16384

    public static let stat = Procedure<PathArgument, FileStat>(id: 0, name: "stat")
    /// The first page of a directory (`listFrom` continues at its `next`).
    public static let list = Procedure<PathArgument, ListPage>(id: 12, name: "list")
    /// A page of a directory; pass the returned `next` back as `cursor` until it is 0.
    public static let listFrom = Procedure<ListArguments, ListPage>(id: 1, name: "listFrom")
    /// The first chunk of a file (`readAt` reads on).
    public static let read = Procedure<PathArgument, ReadResult>(id: 13, name: "read")
    /// Up to `count` bytes (0: as many as fit) from `offset`; `eof` says whether the file ends there.
    public static let readAt = Procedure<ReadArguments, ReadResult>(id: 2, name: "readAt")
    /// Replaces the whole file (a temporary file renamed over it), creating parents as needed.
    public static let write = Procedure<WholeFile, WriteResult>(id: 3, name: "write")
    /// Writes at `offset` in place, creating the file (and parents) if missing.
    public static let writeAt = Procedure<WriteAtArguments, WriteResult>(id: 4, name: "writeAt")
    /// Adds to the end; the result's `offset` says where the data landed.
    public static let append = Procedure<WholeFile, WriteResult>(id: 5, name: "append")
    public static let truncate = Procedure<TruncateArguments, WriteResult>(id: 6, name: "truncate")
    /// A file, or an empty directory.
    public static let remove = Procedure<PathArgument, Empty>(id: 7, name: "remove")
    /// Within the caller's view; replaces an existing file at `to`.
    public static let rename = Procedure<RenameArguments, Empty>(id: 8, name: "rename")
    /// Creates the directory and its parents; an existing directory is not an error.
    public static let mkdir = Procedure<PathArgument, Empty>(id: 9, name: "mkdir")
    /// fsync of the file (or directory) and of each directory above it in the view:
    /// after it returns, what was acknowledged on that path survives a crash of the machine.
    public static let sync = Procedure<PathArgument, Empty>(id: 10, name: "sync")
    /// Atomic durable replace: temporary file, fsync, rename, fsync of the directory.
    public static let put = Procedure<WholeFile, WriteResult>(id: 11, name: "put")

    public static let all: [ProcedureDescriptor] = [
        stat.descriptor, list.descriptor, listFrom.descriptor, read.descriptor, readAt.descriptor,
        write.descriptor, writeAt.descriptor,
        append.descriptor, truncate.descriptor, remove.descriptor, rename.descriptor, mkdir.descriptor,
        sync.descriptor, put.descriptor,
    ]
}

// MARK: arguments
// Capacities are literals because a generic argument must be: 1024 is
// `FileInterface.pathCapacity`, 65536 `FileInterface.chunkCapacity` (FileInterfaceTests
// checks the layouts against them). Each type keeps an initializer taking plain Strings
// and byte arrays, so callers never spell the bounded types.

@AStackValue
public struct PathArgument: Sendable, Equatable {
    public var path: BoundedText<1024>
    public init(_ path: String) { self.path = BoundedText(path) }
}

@AStackValue
public struct ListArguments: Sendable, Equatable {
    public var path: BoundedText<1024>
    public var cursor: UInt64
    public init(path: String, cursor: UInt64 = 0) { self.path = BoundedText(path); self.cursor = cursor }
}

@AStackValue
public struct ReadArguments: Sendable, Equatable {
    public var path: BoundedText<1024>
    public var offset: UInt64
    public var count: UInt32
    public init(path: String, offset: UInt64 = 0, count: UInt32 = 0) {
        self.path = BoundedText(path); self.offset = offset; self.count = count
    }
}

/// A path and the bytes that become (or end) the file: write, append, put.
@AStackValue
public struct WholeFile: Sendable, Equatable {
    public var path: BoundedText<1024>
    public var data: BoundedBytes<65536>
    public init(path: String, data: [UInt8]) { self.path = BoundedText(path); self.data = BoundedBytes(data) }
}

@AStackValue
public struct WriteAtArguments: Sendable, Equatable {
    public var path: BoundedText<1024>
    public var offset: UInt64
    public var data: BoundedBytes<65536>
    public init(path: String, offset: UInt64, data: [UInt8]) {
        self.path = BoundedText(path); self.offset = offset; self.data = BoundedBytes(data)
    }
}

@AStackValue
public struct TruncateArguments: Sendable, Equatable {
    public var path: BoundedText<1024>
    public var size: UInt64
    public init(path: String, size: UInt64) { self.path = BoundedText(path); self.size = size }
}

@AStackValue
public struct RenameArguments: Sendable, Equatable {
    public var from: BoundedText<1024>
    public var to: BoundedText<1024>
    public init(from: String, to: String) { self.from = BoundedText(from); self.to = BoundedText(to) }
}

// MARK: results
// FileStat, ListPage and ReadResult stay hand-written: callers read their text and data as
// plain Strings and byte arrays (`read(...).data`), and FileStat's wire field "modified"
// is not its property's name.

public struct FileStat: AStackValue, Sendable, Equatable {
    /// "file", "directory" or "other" (a symlink, device, socket: never followed).
    public var kind: String
    public var size: UInt64
    /// Last modification, Unix seconds and nanoseconds.
    public var modifiedSeconds: Int64
    public var modifiedNanoseconds: Int64
    public init(kind: String, size: UInt64, modifiedSeconds: Int64, modifiedNanoseconds: Int64) {
        self.kind = kind; self.size = size
        self.modifiedSeconds = modifiedSeconds; self.modifiedNanoseconds = modifiedNanoseconds
    }
    public var isDirectory: Bool { kind == "directory" }
    public static let layout = FieldLayout([Field("kind", .text, capacity: 16), Field("size", .uint64),
                                            Field("modified", .int64), Field("modifiedNanoseconds", .int64)])
    public func write(to w: inout AStackWriter) throws(CallError) {
        try w.put(text: kind, capacity: 16, field: "kind")
        try w.put(size, field: "size")
        try w.put(modifiedSeconds, field: "modified")
        try w.put(modifiedNanoseconds, field: "modifiedNanoseconds")
    }
    public init(from r: inout AStackReader) throws(CallError) {
        kind = try r.getText(capacity: 16, field: "kind")
        size = try r.get(field: "size")
        modifiedSeconds = try r.get(field: "modified")
        modifiedNanoseconds = try r.get(field: "modifiedNanoseconds")
    }
}

/// One page of a directory: lines of "KIND<TAB>SIZE<TAB>NAME" (KIND is f, d or o).
/// Names with control characters (which no client can create) are left out and counted.
public struct ListPage: AStackValue, Sendable, Equatable {
    public var entries: String
    /// Pass back as `cursor` for the next page; 0 when the directory is done.
    public var next: UInt64
    public var count: UInt32
    public var unlisted: UInt32
    public init(entries: String, next: UInt64, count: UInt32, unlisted: UInt32) {
        self.entries = entries; self.next = next; self.count = count; self.unlisted = unlisted
    }
    public static let layout = FieldLayout([Field("entries", .text, capacity: FileInterface.listCapacity),
                                            Field("next", .uint64), Field("count", .uint32),
                                            Field("unlisted", .uint32)])
    public func write(to w: inout AStackWriter) throws(CallError) {
        try w.put(text: entries, capacity: FileInterface.listCapacity, field: "entries")
        try w.put(next, field: "next")
        try w.put(count, field: "count")
        try w.put(unlisted, field: "unlisted")
    }
    public init(from r: inout AStackReader) throws(CallError) {
        entries = try r.getText(capacity: FileInterface.listCapacity, field: "entries")
        next = try r.get(field: "next")
        count = try r.get(field: "count")
        unlisted = try r.get(field: "unlisted")
    }

    /// The page's entries, parsed.
    public var items: [FileEntry] {
        entries.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, let size = UInt64(parts[1]) else { return nil }
            let kind = parts[0] == "d" ? "directory" : parts[0] == "f" ? "file" : "other"
            return FileEntry(name: String(parts[2]), kind: kind, size: size)
        }
    }
}

public struct FileEntry: Sendable, Equatable {
    public var name: String
    public var kind: String
    public var size: UInt64
    public init(name: String, kind: String, size: UInt64) { self.name = name; self.kind = kind; self.size = size }
}

public struct ReadResult: AStackValue, Sendable, Equatable {
    public var data: [UInt8]
    /// The file's size when it was read.
    public var size: UInt64
    public var eof: Bool
    public init(data: [UInt8], size: UInt64, eof: Bool) { self.data = data; self.size = size; self.eof = eof }
    public static let layout = FieldLayout([Field("data", .bytes, capacity: FileInterface.chunkCapacity),
                                            Field("size", .uint64), Field("eof", .bool)])
    public func write(to w: inout AStackWriter) throws(CallError) {
        try w.put(bytes: data, capacity: FileInterface.chunkCapacity, field: "data")
        try w.put(size, field: "size")
        try w.put(eof, field: "eof")
    }
    public init(from r: inout AStackReader) throws(CallError) {
        data = try r.getBytes(capacity: FileInterface.chunkCapacity, field: "data")
        size = try r.get(field: "size")
        eof = try r.getBool(field: "eof")
    }
}

@AStackValue
public struct WriteResult: Sendable, Equatable {
    /// Where the data landed (append), else the offset written at.
    public var offset: UInt64
    /// The file's size afterwards.
    public var size: UInt64
    public init(offset: UInt64, size: UInt64) { self.offset = offset; self.size = size }
}

// MARK: errors

/// Why the file service refused or failed a call: a declared service error, so it travels
/// as a code and its detail and a caller catches it as itself (`catch let e as FileError`).
public struct FileError: ServiceError, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        /// Empty, absolute, NUL or control characters, "." or ".." components, "//".
        case invalidPath
        /// The path would leave the caller's view (through a symlink, say).
        case outsideView
        /// A component longer than 255 bytes, or the path longer than 1024.
        case nameTooLong
        case notFound
        /// A directory where a file was expected.
        case isDirectory
        /// A file where a directory was expected (a parent, or list).
        case notDirectory
        case notEmpty
        case exists
        /// A symlink or device: the service never follows or opens one.
        case notRegular
        /// The caller's view is read-only.
        case readOnly
        /// The image grants the caller no view of the file service.
        case noView
        case quotaBytes
        case quotaFiles
        /// The disk is full.
        case noSpace
        /// An offset or size past what a file may hold.
        case tooLarge
        /// Any other failure of the host, with its errno.
        case io
    }

    public let code: Code
    public let detail: String
    public init(_ code: Code, _ detail: String) { self.code = code; self.detail = detail }

    public var description: String { "\(code.rawValue): \(detail)" }

    // The wire code is the case's place in `Code` plus one (0 means "untyped"): add new
    // cases at the end so older callers keep decoding the ones they know. The message
    // leads with the case's name, as an enum error's does, so a caller that knows no
    // FileError (nkctl's generic call) still shows it; the code alone decides the case.
    public var message: String { description }
    public var wireCode: UInt32 { UInt32(Code.allCases.firstIndex(of: code)!) + 1 }
    public init?(code: UInt32, message: String) {
        guard code >= 1, code <= Code.allCases.count else { return nil }
        let code = Code.allCases[Int(code) - 1]
        let named = "\(code.rawValue): "
        self.init(code, message.hasPrefix(named) ? String(message.dropFirst(named.count)) : message)
    }
}
