// nkctl cp: copy a file into or out of the file service, streamed in A-stack-sized
// chunks through FileClient (any size), with a progress bar when stderr is a terminal.
import ArgumentParser
import Foundation
import Glibc
import Interfaces
import LRPC

struct Copy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cp",
        abstract: "Copy a file to or from the file service (one side is file:PATH).",
        discussion: "Examples: nkctl cp ./big.iso file:backup/big.iso; nkctl cp file:backup/big.iso ./copy.iso")
    @OptionGroup var kernel: KernelOptions
    @Flag(help: "Make the copy durable (fsync of file and directory on either side) before returning.")
    var durable = false
    @Argument(help: "Source: a local path or file:PATH") var source: String
    @Argument(help: "Destination: a local path or file:PATH") var destination: String

    static let scheme = "file:"

    func run() throws {
        let fromService = source.hasPrefix(Self.scheme), toService = self.destination.hasPrefix(Self.scheme)
        guard fromService != toService else {
            throw UsageFailure("exactly one side must be file:PATH (the file service); got '\(source)' and '\(self.destination)'")
        }
        let files: FileClient
        do { files = try FileClient(importingFrom: try kernel.connect()) } catch { throw CommandFailed("\(error)") }
        // Like cp: a destination that is a directory (or ends in "/") gets the source's name.
        var destination = self.destination
        let sourceName = String((fromService ? source.dropFirst(Self.scheme.count) : Substring(source)).split(separator: "/").last ?? "")
        if destination.hasSuffix("/") || destination == Self.scheme {
            destination += sourceName
        } else if toService ? (try? files.stat(String(destination.dropFirst(Self.scheme.count))))?.isDirectory == true
                            : Self.isLocalDirectory(destination) {
            destination += "/" + sourceName
        }
        let progress = ProgressBar(enabled: isatty(STDERR_FILENO) == 1)
        do {
            if toService {
                try upload(files, progress, to: destination)
            } else {
                try download(files, progress, to: destination)
            }
        } catch {
            progress.abandon()
            throw CommandFailed("cp \(source) \(self.destination): \(error)")
        }
        progress.finish()
    }

    private func upload(_ files: FileClient, _ progress: ProgressBar, to destination: String) throws {
        let fd = open(source, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CommandFailed("cannot open \(source): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        let total = UInt64(max(0, st.st_size))
        try files.upload(to: String(destination.dropFirst(Self.scheme.count)), durable: durable,
                         progress: { progress.update($0, of: total) }) { buffer in
            try Self.fill(&buffer, from: fd, name: source)
        }
    }

    private func download(_ files: FileClient, _ progress: ProgressBar, to destination: String) throws {
        let path = String(source.dropFirst(Self.scheme.count))
        // A partial local file is written beside the destination and renamed at the end.
        let partial = destination + ".nk-partial"
        let fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CommandFailed("cannot create \(partial): \(String(cString: strerror(errno)))") }
        do {
            try files.download(path, progress: { progress.update($0, of: $1) }) { chunk in
                try Self.writeAll(chunk, to: fd, name: destination)
            }
            if durable && fsync(fd) != 0 { throw CommandFailed("fsync \(destination): \(String(cString: strerror(errno)))") }
            close(fd)
            guard rename(partial, destination) == 0 else { throw CommandFailed("rename to \(destination): \(String(cString: strerror(errno)))") }
        } catch {
            close(fd)
            unlink(partial)
            throw error
        }
    }

    static func isLocalDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
    }

    /// Reads until the buffer is full or the file ends; the count read.
    static func fill(_ buffer: inout [UInt8], from fd: Int32, name: String) throws -> Int {
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 { if errno == EINTR { continue }; throw CommandFailed("reading \(name): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            done += n
        }
        return done
    }

    static func writeAll(_ bytes: [UInt8], to fd: Int32, name: String) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 { if errno == EINTR { continue }; throw CommandFailed("writing \(name): \(String(cString: strerror(errno)))") }
            done += n
        }
    }
}

/// A one-line progress bar on stderr, redrawn at most ten times a second.
final class ProgressBar {
    let enabled: Bool
    private var lastDraw: UInt64 = 0
    private let start = monotonicNanoseconds()
    private var drawn = false

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ done: UInt64, of total: UInt64) {
        guard enabled else { return }
        let now = monotonicNanoseconds()
        guard now - lastDraw > 100_000_000 || done == total else { return }
        lastDraw = now
        let fraction = total == 0 ? 1 : min(1, Double(done) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let seconds = max(1e-9, Double(now - start) / 1e9)
        let rate = Double(done) / seconds / 1e6
        let line = String(format: "\r[%@%@] %3.0f%% %@ / %@ %.1f MB/s", String(repeating: "#", count: filled),
                          String(repeating: " ", count: width - filled), fraction * 100,
                          Self.size(done), Self.size(total), rate)
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    func finish() { if drawn { FileHandle.standardError.write(Data("\n".utf8)) } }
    func abandon() { finish() }

    static func size(_ bytes: UInt64) -> String {
        bytes >= 1 << 30 ? String(format: "%.1f GiB", Double(bytes) / Double(1 << 30))
            : bytes >= 1 << 20 ? String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
            : "\(bytes / 1024) KiB"
    }
}
