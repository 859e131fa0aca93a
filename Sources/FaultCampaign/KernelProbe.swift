// KernelProbe: the kernel process's descriptors, threads and resident memory, read
// from /proc, sampled through the campaign (start, maximum, end).
import Foundation
import Glibc

struct ResourceSample: Codable, Sendable {
    var fds = 0
    var threads = 0
    var rssKiB = 0
}

struct ResourceTrack: Codable, Sendable {
    var start = ResourceSample()
    var max = ResourceSample()
    var end = ResourceSample()

    mutating func observe(_ s: ResourceSample) {
        max.fds = Swift.max(max.fds, s.fds)
        max.threads = Swift.max(max.threads, s.threads)
        max.rssKiB = Swift.max(max.rssKiB, s.rssKiB)
    }
}

enum KernelProbe {
    static func sample(_ pid: Int32) -> ResourceSample? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"),
              let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        func field(_ name: String) -> Int {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            return Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") ?? 0
        }
        return ResourceSample(fds: entries.count, threads: field("Threads"), rssKiB: field("VmRSS"))
    }

    /// Gone, or a zombie (a detached kernel's domains are reaped by init).
    static func hasExited(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return true }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(close, offsetBy: 2)] == "Z"
    }
}
