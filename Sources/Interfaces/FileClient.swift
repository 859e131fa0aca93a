// FileClient: the typed client of the file service, for services and programs alike.
// Single calls carry at most one A-stack chunk (64 KiB); `upload` and `download` stream
// files of any size in chunks. Failures the service reports come back as `FileError`.
//
//     let files = try FileClient(importingFrom: runtime)
//     try files.write("notes/today.txt", Array("buy milk".utf8))
//     let text = try files.readAll("notes/today.txt")
import Glibc
import LRPC

public final class FileClient: @unchecked Sendable {
    /// The binding of a client made from one (tests use it for raw calls); nil for a
    /// client made from a connection.
    public let binding: ClientBinding?
    /// A client made from a connection binds again after the file service restarts.
    public let connection: ServiceConnection?
    public static let chunk = FileInterface.chunkCapacity

    public init(_ binding: ClientBinding) {
        self.binding = binding
        connection = nil
    }

    public init(_ connection: ServiceConnection) {
        binding = nil
        self.connection = connection
    }

    /// A client that lasts across restarts of the file service.
    public convenience init(importingFrom runtime: DomainRuntime) throws {
        let connection = ServiceConnection(runtime: runtime, interface: FileInterface.name)
        _ = try connection.binding()  // fail now, not at the first call, when there is none
        self.init(connection)
    }

    /// Calls that may run twice with the same effect: the protocol names every file and
    /// offset, so after the service died mid-call a connection's client repeats them once
    /// on the restarted service. append, remove and rename are not repeated.
    static let repeatable: Set<UInt32> = [
        FileInterface.stat.id, FileInterface.sync.id, FileInterface.mkdir.id, FileInterface.list.id,
        FileInterface.listFrom.id, FileInterface.read.id, FileInterface.readAt.id, FileInterface.write.id,
        FileInterface.writeAt.id, FileInterface.truncate.id, FileInterface.put.id,
    ]

    /// A call whose declared failures come back as `FileError`; transport failures stay `CallError`s.
    public func call<A, R>(_ procedure: Procedure<A, R>, _ arguments: A) throws -> R {
        do {
            guard let connection else { return try binding!.call(procedure, arguments) }
            do {
                return try connection.call(procedure, arguments)
            } catch .serverDied where Self.repeatable.contains(procedure.id) {
                return try connection.call(procedure, arguments)
            }
        } catch {
            guard case .serviceError(let code, let message) = error, let typed = FileError(code: code, message: message) else {
                throw error
            }
            throw typed
        }
    }

    // MARK: one call each

    public func stat(_ path: String) throws -> FileStat { try call(FileInterface.stat, PathArgument(path)) }

    public func read(_ path: String, offset: UInt64 = 0, count: Int = FileClient.chunk) throws -> ReadResult {
        try call(FileInterface.readAt, ReadArguments(path: path, offset: offset, count: UInt32(clamping: count)))
    }

    /// Replaces the file with `data` (at most one chunk; `upload` streams more).
    @discardableResult
    public func write(_ path: String, _ data: [UInt8]) throws -> WriteResult {
        try call(FileInterface.write, WholeFile(path: path, data: data))
    }

    @discardableResult
    public func write(_ path: String, at offset: UInt64, _ data: [UInt8]) throws -> WriteResult {
        try call(FileInterface.writeAt, WriteAtArguments(path: path, offset: offset, data: data))
    }

    @discardableResult
    public func append(_ path: String, _ data: [UInt8]) throws -> WriteResult {
        try call(FileInterface.append, WholeFile(path: path, data: data))
    }

    /// Atomic and durable: survives a crash of the machine once it returns.
    @discardableResult
    public func put(_ path: String, _ data: [UInt8]) throws -> WriteResult {
        try call(FileInterface.put, WholeFile(path: path, data: data))
    }

    @discardableResult
    public func truncate(_ path: String, to size: UInt64) throws -> WriteResult {
        try call(FileInterface.truncate, TruncateArguments(path: path, size: size))
    }

    public func remove(_ path: String) throws { _ = try call(FileInterface.remove, PathArgument(path)) }
    public func rename(_ from: String, to: String) throws { _ = try call(FileInterface.rename, RenameArguments(from: from, to: to)) }
    public func mkdir(_ path: String) throws { _ = try call(FileInterface.mkdir, PathArgument(path)) }
    public func sync(_ path: String) throws { _ = try call(FileInterface.sync, PathArgument(path)) }

    // MARK: many calls

    /// Every entry of a directory, page by page.
    public func list(_ path: String) throws -> [FileEntry] {
        var entries: [FileEntry] = []
        var cursor: UInt64 = 0
        repeat {
            let page = try call(FileInterface.listFrom, ListArguments(path: path, cursor: cursor))
            entries += page.items
            cursor = page.next
        } while cursor != 0
        return entries
    }

    /// The whole file, streamed in chunks.
    public func readAll(_ path: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try download(path) { bytes += $0 }
        return bytes
    }

    /// Streams the file to `sink` chunk by chunk; `progress` gets (bytes so far, size).
    /// Returns the bytes delivered.
    @discardableResult
    public func download(_ path: String, progress: ((UInt64, UInt64) -> Void)? = nil,
                         sink: ([UInt8]) throws -> Void) throws -> UInt64 {
        var offset: UInt64 = 0
        while true {
            let chunk = try read(path, offset: offset)
            let data = chunk.data.bytes
            if !data.isEmpty { try sink(data) }
            offset += UInt64(data.count)
            progress?(offset, chunk.size)
            if chunk.eof || data.isEmpty { return offset }
        }
    }

    /// Streams a file of any size into `path`: `next` fills its buffer (up to one chunk)
    /// and returns how many bytes it put there, 0 at the end. The chunks go to a partial
    /// file beside `path`, renamed over it only when all arrived: `path` is the old or
    /// the new contents, never a mixture. `durable` adds sync of file and directory (the
    /// guarantee of `put`). Returns the bytes written.
    @discardableResult
    public func upload(to path: String, durable: Bool = false, progress: ((UInt64) -> Void)? = nil,
                       next: (inout [UInt8]) throws -> Int) throws -> UInt64 {
        let partial = Self.partialName(for: path)
        var buffer = [UInt8](repeating: 0, count: Self.chunk)
        var offset: UInt64 = 0
        do {
            try write(partial, [])
            while true {
                let n = try next(&buffer)
                if n == 0 { break }
                try write(partial, at: offset, n == buffer.count ? buffer : Array(buffer[0..<n]))
                offset += UInt64(n)
                progress?(offset)
            }
            if durable { try sync(partial) }
            try rename(partial, to: path)
            if durable { try sync(Self.parent(of: path)) }
        } catch {
            try? remove(partial)
            throw error
        }
        return offset
    }

    /// Uploads `bytes` (any size).
    @discardableResult
    public func upload(_ bytes: [UInt8], to path: String, durable: Bool = false) throws -> UInt64 {
        var position = 0
        return try upload(to: path, durable: durable) { buffer in
            let n = min(buffer.count, bytes.count - position)
            buffer.withUnsafeMutableBytes { $0.copyBytes(from: bytes[position..<(position + n)]) }
            position += n
            return n
        }
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    static func partialName(for path: String) -> String {
        let name = TemporaryName.uploadPrefix + "\(String(UInt64.random(in: 1...UInt64.max), radix: 16))"
        let parent = parent(of: path)
        return parent.isEmpty ? name : parent + "/" + name
    }
}
