// DomainOutput: a domain's stdout and stderr, which the kernel reads through a pipe and
// writes to its log one line at a time, each line prefixed with the domain's name and
// stripped of control characters, at a bounded rate. A domain cannot forge a kernel
// line or flood the log.
import CNanoKernel
import Glibc
import LRPC
import SystemPackage

final class DomainOutput {
    let readEnd: FileDescriptor
    private var partial: [UInt8] = []
    private var limit: LogRateLimit
    static let longestLine = 1024

    /// A pipe: the read end stays with the kernel, the write end goes to the domain.
    static func pipe(linesPerSecond: Int) throws -> (DomainOutput, FileDescriptor) {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else { throw SystemError("pipe for domain output") }
        fds.forEach { _ = nk_set_cloexec($0) }
        _ = nk_set_nonblocking(fds[0], 1)
        return (DomainOutput(readEnd: FileDescriptor(rawValue: fds[0]), linesPerSecond: linesPerSecond), FileDescriptor(rawValue: fds[1]))
    }

    private init(readEnd: FileDescriptor, linesPerSecond: Int) {
        self.readEnd = readEnd
        limit = LogRateLimit(perSecond: linesPerSecond)
    }

    deinit { try? readEnd.close() }

    /// Read what is there and log each complete line. Returns false at end of file.
    func drain(into log: KernelLog, domain: String) -> Bool {
        readOnce(into: log, domain: domain) != 0
    }

    /// Everything still in the pipe, after the domain died.
    func drainRemaining(into log: KernelLog, domain: String) {
        while readOnce(into: log, domain: domain) > 0 {}
        flush(into: log, domain: domain)
    }

    /// Bytes read: 0 at end of file, -1 when nothing is there yet.
    private func readOnce(into log: KernelLog, domain: String) -> Int {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { read(readEnd.rawValue, $0.baseAddress, $0.count) }
        if n == 0 { flush(into: log, domain: domain) }
        guard n > 0 else { return n == 0 ? 0 : -1 }
        for byte in buffer.prefix(n) {
            if byte == UInt8(ascii: "\n") || partial.count >= Self.longestLine {
                flush(into: log, domain: domain)
            }
            if byte != UInt8(ascii: "\n") { partial.append(byte) }
        }
        return n
    }

    private func flush(into log: KernelLog, domain: String) {
        guard !partial.isEmpty else { return }
        defer { partial.removeAll(keepingCapacity: true) }
        let (allowed, dropped) = limit.admit()
        if dropped > 0 { log.info("kernel: dropped \(dropped) lines of output from \(domain) (more than \(limit.perSecond) a second)") }
        guard allowed else { return }
        // Printable ASCII and UTF-8 stay; control characters become '?'.
        let text = String(decoding: partial.map { $0 < 0x20 || $0 == 0x7f ? UInt8(ascii: "?") : $0 }, as: UTF8.self)
        log.output(of: domain, text)
    }
}
