// Outbox: the messages the kernel has for one domain and could not send yet. The
// kernel's end of every domain channel is non-blocking, so the control thread never
// waits on a domain: what does not fit in the socket waits here, in a bounded queue,
// and goes out when the event loop sees the channel writable. A domain that lets its
// queue fill up, or leaves it undrained past a deadline, is cut off by the kernel.
import Glibc
import LRPC
import SystemPackage

struct Outbox {
    struct Parcel {
        let bytes: [UInt8]
        /// The kernel's own duplicates of the descriptors (the sender closes its copies).
        let descriptors: [FileDescriptor]
    }

    /// Messages at most; bytes at most.
    static let capacity = 256
    static let byteCapacity = 1 << 20
    /// How long a domain may leave the kernel's messages unread.
    static let drainDeadline: UInt64 = 2_000_000_000

    private(set) var parcels: [Parcel] = []
    private var bytes = 0
    /// When the queue last went from empty to non-empty.
    private(set) var waitingSince: UInt64?

    var isEmpty: Bool { parcels.isEmpty }

    enum Outcome { case sent, queued, overflow, failed(Error) }

    /// Send now if the queue is empty and the socket takes it; otherwise queue a copy.
    mutating func send(_ message: ControlMessage, descriptors: [FileDescriptor], on channel: ControlChannel,
                       now: UInt64 = monotonicNanoseconds()) -> Outcome {
        let encoded = message.encoded()
        if parcels.isEmpty {
            do {
                if try channel.send(encoded: encoded, descriptors: descriptors, expected: message.descriptorCount) { return .sent }
            } catch { return .failed(error) }
        }
        guard parcels.count < Self.capacity, bytes + encoded.count <= Self.byteCapacity else { return .overflow }
        var copies: [FileDescriptor] = []
        for fd in descriptors {
            let copy = fcntl(fd.rawValue, F_DUPFD_CLOEXEC, 0)
            guard copy >= 0 else {
                copies.forEach { try? $0.close() }
                return .failed(SystemError("duplicate a descriptor for a queued message"))
            }
            copies.append(FileDescriptor(rawValue: copy))
        }
        if parcels.isEmpty { waitingSince = now }
        parcels.append(Parcel(bytes: encoded, descriptors: copies))
        bytes += encoded.count
        return .queued
    }

    /// Send what the socket takes now (the channel became writable).
    mutating func flush(on channel: ControlChannel) throws {
        while let first = parcels.first {
            guard try channel.send(encoded: first.bytes, descriptors: first.descriptors, expected: first.descriptors.count) else { return }
            first.descriptors.forEach { try? $0.close() }
            parcels.removeFirst()
            bytes -= first.bytes.count
            waitingSince = parcels.isEmpty ? nil : monotonicNanoseconds()
        }
    }

    /// Has the domain left the kernel's messages unread for too long?
    func overdue(now: UInt64 = monotonicNanoseconds()) -> Bool {
        guard let waitingSince else { return false }
        return now - waitingSince > Self.drainDeadline
    }

    /// Drop everything (the domain is retired): queued descriptors close.
    mutating func discard() {
        for parcel in parcels { parcel.descriptors.forEach { try? $0.close() } }
        parcels = []
        bytes = 0
        waitingSince = nil
    }
}
