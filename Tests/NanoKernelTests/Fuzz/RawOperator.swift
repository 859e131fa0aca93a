// RawOperator: a domain-side control channel held by the test process itself, which
// says hello like nkctl and then sends whatever the fuzzer makes, frame by frame, with
// no runtime in between to tidy it. Every wait is bounded; sends never block the test.
import Foundation
import Glibc
import KernelFuzz
import LRPC
import SystemPackage

final class RawOperator {
    let channel: ControlChannel
    private(set) var trapPage: TrapPage?
    /// The kernel closed this connection (it cut the domain off, or refused it at hello).
    private(set) var closed = false
    private(set) var replies: [ControlMessage] = []
    /// Imported bindings with the descriptors that came with them (kept open: a client
    /// that holds A-stacks while it misbehaves is the realistic case).
    private(set) var imported: [(BindingObject, AStackGeometry, FileDescriptor)] = []

    /// nil when the kernel did not welcome the connection within `timeout` (a full
    /// operator quota closes it at once).
    init?(socketPath: String, name: String = "fuzz", timeout: Double = 5) {
        guard let channel = try? ControlChannel.connect(path: socketPath) else { return nil }
        self.channel = channel
        var limit = timeval(tv_sec: 1, tv_usec: 0)  // a send the kernel does not take in 1 s fails
        setsockopt(channel.fd.rawValue, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard (try? channel.send(.hello(domainName: name))) != nil else { return nil }
        guard waitForReply(timeout: timeout, where: { if case .welcome = $0 { true } else { false } }) else { return nil }
    }

    deinit {
        for (_, _, fd) in imported { try? fd.close() }
    }

    /// Send raw bytes with `descriptors` copies of /dev/null riding along. False when the
    /// kernel has closed the connection or did not take the frame within a second.
    @discardableResult
    func send(_ bytes: [UInt8], descriptors: Int = 0) -> Bool {
        guard !closed else { return false }
        let fds = (0..<descriptors).compactMap { _ in try? FileDescriptor.open("/dev/null", .readOnly) }
        defer { fds.forEach { try? $0.close() } }
        do {
            return try channel.send(encoded: bytes, descriptors: fds, expected: fds.count)
        } catch let error as SystemError where error.errno == .messageTooLong {
            return true  // the socket itself refused the size: nothing reached the kernel
        } catch {
            closed = true
            return false
        }
    }

    /// Read whatever the kernel has sent, without waiting; notes a close.
    func drain() {
        while !closed, readable(milliseconds: 0) { receiveOne() }
    }

    /// Wait (at most `timeout` seconds) for a reply matching `match`, or the close.
    @discardableResult
    func waitForReply(timeout: Double, where match: (ControlMessage) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var seen = replies.count
        while !closed, Date() < deadline {
            if readable(milliseconds: 50) { receiveOne() }
            if replies[seen...].contains(where: match) { return true }
            seen = replies.count
        }
        return false
    }

    /// Wait (at most `timeout` seconds) for the kernel to close the connection.
    func waitForClose(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !closed, Date() < deadline { if readable(milliseconds: 50) { receiveOne() } }
        return closed
    }

    private func readable(milliseconds: Int32) -> Bool {
        var p = pollfd(fd: channel.fd.rawValue, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, milliseconds) > 0
    }

    private func receiveOne() {
        guard let (message, fds) = (try? channel.receive()) ?? nil else {
            closed = true
            return
        }
        replies.append(message)
        if replies.count > 256 { replies.removeFirst(128) }
        switch message {
        case .welcome:
            // The mapping takes the descriptor (and closes it).
            if let fd = fds.first, let region = try? SharedRegion(mapping: fd, size: TrapPage.size) {
                trapPage = TrapPage(region: region)
            }
        case .imported(_, let bo, let geometry, _, _, _) where fds.count == 1:
            imported.append((bo, geometry, fds[0]))
        default:
            fds.forEach { try? $0.close() }
        }
    }

    /// Hang up. The descriptor itself closes with the channel (its deinit): closing it
    /// here too would close whatever this process opened next under the same number.
    func close() {
        _ = shutdown(channel.fd.rawValue, Int32(SHUT_RDWR))
        closed = true
    }
}
