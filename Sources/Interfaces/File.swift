// The file service: a confined, durable file store. Paths are relative to the caller's
// view (a sub-directory of the service's root the image grants it); every call names its
// file and offset, so a restarted service needs no client state. Payloads are bounded by
// the A-stack: `FileInterface.chunkCapacity` bytes a call; `FileClient` streams more.
// Every value below is @AStackValue: layouts and copy code generated from the fields.
import LRPC

/// The file service's procedures, declared once: `@ServiceInterface` writes
/// `FileServiceInterface` (alias `FileInterface`: the procedures, their descriptors and
/// `service(_:)`, the handler table nk-file exports) and `FileServiceClient`. The ids are
/// the ones the service has always had, so the wire is unchanged; every procedure takes
/// the kernel's call record (`context`: the caller's name picks its view) and throws
/// `FileError`, which the caller catches as itself. `FileClient` is the richer client
/// (streaming, repeating a call once across a restart).
@ServiceInterface("file")
public protocol FileService {
    @CallOptions(id: 0) func stat(_ path: PathArgument, context: CallContext) throws(FileError) -> FileStat
    /// The first page of a directory (`listFrom` continues at its `next`).
    @CallOptions(id: 12) func list(_ path: PathArgument, context: CallContext) throws(FileError) -> ListPage
    /// A page of a directory; pass the returned `next` back as `cursor` until it is 0.
    @CallOptions(id: 1) func listFrom(_ page: ListArguments, context: CallContext) throws(FileError) -> ListPage
    /// The first chunk of a file (`readAt` reads on).
    @CallOptions(id: 13) func read(_ path: PathArgument, context: CallContext) throws(FileError) -> ReadResult
    /// Up to `count` bytes (0: as many as fit) from `offset`; `eof` says whether the file ends there.
    @CallOptions(id: 2) func readAt(_ range: ReadArguments, context: CallContext) throws(FileError) -> ReadResult
    /// Replaces the whole file (a temporary file renamed over it), creating parents as needed.
    @CallOptions(id: 3) func write(_ file: WholeFile, context: CallContext) throws(FileError) -> WriteResult
    /// Writes at `offset` in place, creating the file (and parents) if missing.
    @CallOptions(id: 4) func writeAt(_ chunk: WriteAtArguments, context: CallContext) throws(FileError) -> WriteResult
    /// Adds to the end; the result's `offset` says where the data landed.
    @CallOptions(id: 5) func append(_ file: WholeFile, context: CallContext) throws(FileError) -> WriteResult
    @CallOptions(id: 6) func truncate(_ size: TruncateArguments, context: CallContext) throws(FileError) -> WriteResult
    /// A file, or an empty directory.
    @CallOptions(id: 7) func remove(_ path: PathArgument, context: CallContext) throws(FileError)
    /// Within the caller's view; replaces an existing file at `to`.
    @CallOptions(id: 8) func rename(_ names: RenameArguments, context: CallContext) throws(FileError)
    /// Creates the directory and its parents; an existing directory is not an error.
    @CallOptions(id: 9) func mkdir(_ path: PathArgument, context: CallContext) throws(FileError)
    /// fsync of the file (or directory) and of each directory above it in the view:
    /// after it returns, what was acknowledged on that path survives a crash of the machine.
    @CallOptions(id: 10) func sync(_ path: PathArgument, context: CallContext) throws(FileError)
    /// Atomic durable replace: temporary file, fsync, rename, fsync of the directory.
    @CallOptions(id: 11) func put(_ file: WholeFile, context: CallContext) throws(FileError) -> WriteResult
}

public typealias FileInterface = FileServiceInterface

extension FileServiceInterface {
    /// Bytes of file data one call carries (one A-stack slot holds a chunk plus a path).
    public static let chunkCapacity = 65536
    /// Bytes of a path, relative to the view; each component at most `nameLimit`.
    public static let pathCapacity = 1024
    public static let nameLimit = 255
    /// Entries of one `list` page (a page stays smaller than a chunk and its path, so it
    /// adds nothing to the A-stack).
    public static let listEntries = 200
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
// Callers build results from plain Strings and byte arrays; the fields keep the names
// they have always had on the wire ("kind", "modified", "data", ...).

@AStackValue
public struct FileStat: Sendable, Equatable {
    /// "file", "directory" or "other" (a symlink, device, socket: never followed).
    public var kind: BoundedText<16>
    public var size: UInt64
    /// Last modification, Unix seconds and nanoseconds.
    public var modified: Int64
    public var modifiedNanoseconds: Int64
    public init(kind: String, size: UInt64, modifiedSeconds: Int64, modifiedNanoseconds: Int64) {
        self.kind = BoundedText(kind); self.size = size
        self.modified = modifiedSeconds; self.modifiedNanoseconds = modifiedNanoseconds
    }
    public var modifiedSeconds: Int64 { modified }
    public var isDirectory: Bool { kind.text == "directory" }
}

/// One page of a directory. Names with control characters (which no client can create),
/// or longer than a name may be, are left out and counted.
@AStackValue
public struct ListPage: Sendable, Equatable {
    public var entries: BoundedList<DirectoryEntry, 200>  // FileInterface.listEntries
    /// Pass back as `cursor` for the next page; 0 when the directory is done.
    public var next: UInt64
    public var unlisted: UInt32
    public init(entries: [DirectoryEntry], next: UInt64, unlisted: UInt32) {
        self.entries = BoundedList(entries); self.next = next; self.unlisted = unlisted
    }

    /// The page's entries, as plain Strings.
    public var items: [FileEntry] {
        entries.map { FileEntry(name: $0.name.text, kind: $0.kind.text, size: $0.size) }
    }
}

/// One entry of a `list` page, as it travels.
@AStackValue
public struct DirectoryEntry: Sendable, Equatable {
    public var name: BoundedText<255>  // FileInterface.nameLimit
    /// "file", "directory" or "other".
    public var kind: BoundedText<16>
    /// Bytes of a file; 0 for anything else.
    public var size: UInt64
    public init(name: String, kind: String, size: UInt64) {
        self.name = BoundedText(name); self.kind = BoundedText(kind); self.size = size
    }
}

public struct FileEntry: Sendable, Equatable {
    public var name: String
    public var kind: String
    public var size: UInt64
    public init(name: String, kind: String, size: UInt64) { self.name = name; self.kind = kind; self.size = size }
}

@AStackValue
public struct ReadResult: Sendable, Equatable {
    public var data: BoundedBytes<65536>  // FileInterface.chunkCapacity
    /// The file's size when it was read.
    public var size: UInt64
    public var eof: Bool
    public init(data: [UInt8], size: UInt64, eof: Bool) { self.data = BoundedBytes(data); self.size = size; self.eof = eof }
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
