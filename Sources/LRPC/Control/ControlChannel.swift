// ControlChannel: one end of a SOCK_SEQPACKET connection between a domain and the
// kernel. Each message is one packet; descriptors travel with it.
import CNanoKernel
import Glibc
import SystemPackage

public final class ControlChannel: @unchecked Sendable {
    public let fd: FileDescriptor
    /// Big enough for an admin reply listing every domain and binding.
    public static let maximumMessage = 1 << 18

    public init(fd: FileDescriptor) { self.fd = fd }

    deinit { try? fd.close() }

    /// A connected pair (kernel end, domain end), both close-on-exec.
    public static func pair() throws -> (ControlChannel, FileDescriptor) {
        let (kernelEnd, domainEnd) = try socketPair()
        return (ControlChannel(fd: kernelEnd), domainEnd)
    }

    /// A connected SOCK_SEQPACKET pair of plain descriptors (message bindings).
    public static func socketPair() throws -> (FileDescriptor, FileDescriptor) {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw SystemError("socketpair")
        }
        return (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
    }

    /// Connect to a kernel's control socket.
    public static func connect(path: String) throws -> ControlChannel {
        ControlChannel(fd: try UnixSocket.make(path: path, operation: "connect") { Glibc.connect($0, $1, $2) })
    }

    /// An operator client talks only to a kernel run by its own user or by root: anyone
    /// else listening on the path (another user who made the folder first) could answer as
    /// a fake kernel. Checked before a byte is sent (SO_PEERCRED of the listener).
    public func checkPeerIsTrustedKernel(_ path: String) throws {
        var uid: uid_t = 0
        var pid: pid_t = 0
        guard nk_peer_credentials(fd.rawValue, &uid, &pid) == 0 else { throw SystemError("SO_PEERCRED on \(path)") }
        guard uid == getuid() || uid == 0 else {
            throw ControlError("the process listening on \(path) (pid \(pid)) runs as uid \(uid), neither you (uid \(getuid())) nor root: not your kernel, refusing to talk to it")
        }
    }

    public func send(_ message: ControlMessage, descriptors: [FileDescriptor] = []) throws {
        guard try send(encoded: message.encoded(), descriptors: descriptors, expected: message.descriptorCount) else {
            throw SystemError("send control message", .resourceTemporarilyUnavailable)
        }
    }

    /// Send encoded bytes; false if a non-blocking channel is full (nothing was sent).
    public func send(encoded bytes: [UInt8], descriptors: [FileDescriptor], expected: Int) throws -> Bool {
        precondition(descriptors.count == expected, "wrong descriptor count for control message")
        let raw = descriptors.map(\.rawValue)
        let sent = bytes.withUnsafeBytes { b in
            raw.withUnsafeBufferPointer { f in
                nk_send_with_fds(fd.rawValue, b.baseAddress, b.count, f.baseAddress, Int32(f.count))
            }
        }
        if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return false }
        guard sent == bytes.count else { throw SystemError("send control message") }
        return true
    }

    /// Has the other end of this SOCK_SEQPACKET socket hung up (or this end shut down)?
    /// Does not wait.
    public static func peerHungUp(_ fd: FileDescriptor) -> Bool {
        let readHangUp: Int16 = 0x2000  // POLLRDHUP (a GNU extension Glibc's module leaves out)
        var p = pollfd(fd: fd.rawValue, events: Int16(POLLIN) | readHangUp, revents: 0)
        let ready = poll(&p, 1, 0)
        return ready < 0 || (ready == 1 && p.revents & (readHangUp | Int16(POLLHUP | POLLERR)) != 0)
    }

    /// Receive one message. nil on orderly close. Throws on a malformed message or a
    /// wrong number of descriptors (which are closed).
    public func receive() throws -> (ControlMessage, [FileDescriptor])? {
        var buffer = [UInt8](repeating: 0, count: Self.maximumMessage)
        var fds = [Int32](repeating: -1, count: 8)
        var fdCount: Int32 = 8
        let n = buffer.withUnsafeMutableBytes { b in
            nk_recv_with_fds(fd.rawValue, b.baseAddress, b.count, &fds, &fdCount)
        }
        if n == 0 {
            // A SOCK_SEQPACKET socket keeps even an empty message: 0 is the peer's hang-up
            // only when the socket says so. An empty message is malformed, not a close
            // (taken for one, the kernel stopped reading a domain that still ran).
            if Self.peerHungUp(fd) { return nil }
            throw ControlError("empty control message")
        }
        guard n > 0 else { throw SystemError("receive control message") }
        let descriptors = fds.prefix(Int(fdCount)).map { FileDescriptor(rawValue: $0) }
        do {
            let message = try ControlMessage.decode(Array(buffer.prefix(n)))
            guard descriptors.count == message.descriptorCount else {
                throw ControlError("control message carried \(descriptors.count) descriptors, expected \(message.descriptorCount)")
            }
            return (message, descriptors)
        } catch {
            descriptors.forEach { try? $0.close() }
            throw error
        }
    }
}
