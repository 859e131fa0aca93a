// nkctl bench-files: what the file service costs, against a floor measured in the same run.
//   1. sequential write and read throughput through LRPC (FileClient, 4 KiB and 64 KiB
//      chunks) against pwrite/pread of the same chunks in this process, on the same file
//      system (the service's root, which the status report names);
//   2. the confinement's per-open cost: openat2 beneath a directory with the service's
//      RESOLVE_* flags against a plain openat of the same path.
// Medians of `--runs` runs; ratios are LRPC over direct.
import ArgumentParser
import CNanoKernel
import Foundation
import Glibc
import Interfaces
import LRPC
import NanoAdmin
import NanoKernel

struct FileBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-files",
        abstract: "File service throughput (4 KiB and 64 KiB chunks) and confinement cost, against direct file I/O.")
    @OptionGroup var kernel: KernelOptions
    @Option(help: "MiB written and read per run and chunk size.") var mebibytes = 64
    @Option(help: "Runs per figure (the median is reported).") var runs = 5
    @Option(help: "Opens per run for the confinement figure.") var opens = 100_000

    func validate() throws {
        guard runs >= 1, mebibytes >= 1, mebibytes <= 4096, opens >= 10 else {
            throw ValidationError("--runs must be at least 1, --mebibytes 1 to 4096, --opens at least 10")
        }
    }

    func run() throws {
        let runtime = try kernel.connect()
        let files: FileClient
        do { files = try FileClient(importingFrom: runtime) } catch { throw CommandFailed("\(error)") }
        let report = try JSONDecoder().decode(StatusReport.self, from: Data(runtime.admin("status").utf8))
        guard let root = report.domains.first(where: { $0.name == "file" })?.sandbox["file_root"] else {
            throw CommandFailed("no file service with a root in this kernel's status")
        }
        let total = mebibytes << 20
        var rows = [["CHUNK", "OP", "LRPC MB/s", "DIRECT MB/s", "LRPC/DIRECT"]]
        for chunk in [4096, 65536] {
            let data = [UInt8](repeating: 0x5a, count: chunk)
            let direct = root + "/.bench-direct-\(getpid())"
            defer { unlink(direct) }
            let fd = open(direct, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw CommandFailed("cannot create \(direct): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            let path = "bench-files/lrpc-\(getpid()).bin"
            defer { try? files.remove(path) }
            let lrpcWrite = try median { try Self.each(total, chunk) { _ = try files.write(path, at: UInt64($0), data) } }
            let directWrite = try median { try Self.each(total, chunk) { offset in
                guard pwrite(fd, data, chunk, off_t(offset)) == chunk else { throw CommandFailed("pwrite: \(errno)") }
            } }
            let lrpcRead = try median { try Self.each(total, chunk) { _ = try files.read(path, offset: UInt64($0), count: chunk) } }
            var buffer = [UInt8](repeating: 0, count: chunk)
            let directRead = try median { try Self.each(total, chunk) { offset in
                guard pread(fd, &buffer, chunk, off_t(offset)) == chunk else { throw CommandFailed("pread: \(errno)") }
            } }
            for (op, lrpc, floor) in [("write", lrpcWrite, directWrite), ("read", lrpcRead, directRead)] {
                let lrpcRate = Double(total) / lrpc / 1e6, floorRate = Double(total) / floor / 1e6
                rows.append(["\(chunk / 1024) KiB", op, String(format: "%.0f", lrpcRate), String(format: "%.0f", floorRate),
                             String(format: "%.2f", lrpcRate / floorRate)])
            }
        }
        print("file service throughput (\(mebibytes) MiB per run, median of \(runs) runs; root \(root))")
        printTable(rows)
        try confinementCost(root: root, files: files)
    }

    /// Per-open cost of openat2 with the service's resolve flags against openat.
    private func confinementCost(root: String, files: FileClient) throws {
        let relative = "bench-files/a/b/c.txt"
        try files.write(relative, [1])
        defer { try? files.remove(relative) }
        let directory = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { throw CommandFailed("cannot open \(root)") }
        defer { close(directory) }
        let resolve = UInt64(NK_RESOLVE_BENEATH | NK_RESOLVE_NO_SYMLINKS | NK_RESOLVE_NO_MAGICLINKS | NK_RESOLVE_NO_XDEV)
        // Alternating runs after a warm-up of each, so neither gets the cold caches.
        let plainOpen = { openat(directory, relative, O_RDONLY | O_CLOEXEC) }
        let beneathOpen = { nk_openat2(directory, relative, O_RDONLY | O_CLOEXEC, 0, resolve) }
        try Self.repeatOpen(opens / 10, plainOpen)
        try Self.repeatOpen(opens / 10, beneathOpen)
        var plainTimes: [Double] = [], beneathTimes: [Double] = []
        for _ in 0..<runs {
            for (open, into) in [(plainOpen, 0), (beneathOpen, 1)] {
                let start = monotonicNanoseconds()
                try Self.repeatOpen(opens, open)
                let perCall = Double(monotonicNanoseconds() - start) / Double(opens)
                if into == 0 { plainTimes.append(perCall) } else { beneathTimes.append(perCall) }
            }
        }
        let plain = plainTimes.sorted()[runs / 2], beneath = beneathTimes.sorted()[runs / 2]
        // The path checks the service makes before it opens anything.
        var checkTimes: [Double] = []
        for _ in 0..<runs {
            let start = monotonicNanoseconds()
            for _ in 0..<opens { _ = try CheckedPath(checking: relative) }
            checkTimes.append(Double(monotonicNanoseconds() - start) / Double(opens))
        }
        let check = checkTimes.sorted()[runs / 2]
        var samples: [UInt64] = []
        for _ in 0..<2000 {
            let start = monotonicNanoseconds()
            _ = try files.stat(relative)
            samples.append(monotonicNanoseconds() - start)
        }
        let stat = LatencySummary(samples: samples)
        print("\nconfinement: open+close of a path three directories deep, median of \(runs) runs of \(opens)")
        printTable([["OPEN", "NS/CALL"], ["openat (plain)", String(format: "%.0f", plain)],
                    ["openat2 beneath, no symlinks", String(format: "%.0f", beneath)],
                    ["path checks (CheckedPath)", String(format: "%.0f", check)],
                    ["checks + openat2", String(format: "%.0f", check + beneath)],
                    ["overhead", String(format: "%+.0f ns (%.2fx)", check + beneath - plain, (check + beneath) / plain)]])
        print(String(format: "file.stat of the same path over LRPC (checks + openat2 + fstat + the call): median %.1f us", stat.medianMicroseconds))
    }

    /// Seconds, median of `runs` runs of `body`.
    private func median(_ body: () throws -> Void) throws -> Double {
        var times: [Double] = []
        for _ in 0..<runs {
            let start = monotonicNanoseconds()
            try body()
            times.append(Double(monotonicNanoseconds() - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }

    static func each(_ total: Int, _ chunk: Int, _ body: (Int) throws -> Void) throws {
        var offset = 0
        while offset < total { try body(offset); offset += chunk }
    }

    static func repeatOpen(_ count: Int, _ open: () -> Int32) throws {
        for _ in 0..<count {
            let fd = open()
            guard fd >= 0 else { throw CommandFailed("open failed: \(String(cString: strerror(errno)))") }
            close(fd)
        }
    }
}
