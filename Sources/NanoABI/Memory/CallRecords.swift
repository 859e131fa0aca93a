// CallRecords: one record per A-stack slot of a binding, shared by the kernel and the
// server only. The kernel writes what the client cannot forge (procedure, caller); the
// server thread for the slot sleeps on `sequence` and reports completion in `done`.
//
//   header (offset 0): revoked   non-zero once the binding is gone: slot threads exit
//   record i at 64 + 64*i:
//     0 sequence (kernel bumps per call: the server thread's futex word)
//     4 serverWaiting   8 done (server writes the sequence it finished)
//     12 procedure      16 caller domain id      20 the CPU to run on (follow-client)
import CNanoKernel

public struct CallRecords: @unchecked Sendable {
    public let region: SharedRegion
    public let slotCount: Int

    public static func size(slots: Int) -> Int { max(4096, 64 + 64 * slots) }

    public init(region: SharedRegion, slotCount: Int) {
        self.region = region
        self.slotCount = slotCount
    }

    @inlinable @inline(__always) public var revoked: SharedWord { region.word(0) }
    @inlinable @inline(__always) public func record(_ slot: Int) -> CallRecord { CallRecord(base: region.base + 64 + slot * 64) }
}

public struct CallRecord {
    @usableFromInline let base: UnsafeMutableRawPointer
    @inlinable @inline(__always) init(base: UnsafeMutableRawPointer) { self.base = base }
    @inlinable @inline(__always) func w(_ o: Int) -> SharedWord { SharedWord(at: base + o) }
    @inlinable @inline(__always) public var sequence: SharedWord { w(0) }
    @inlinable @inline(__always) public var serverWaiting: SharedWord { w(4) }
    @inlinable @inline(__always) public var done: SharedWord { w(8) }
    @inlinable @inline(__always) public var procedure: SharedWord { w(12) }
    @inlinable @inline(__always) public var callerDomain: SharedWord { w(16) }
    @inlinable @inline(__always) public var cpu: SharedWord { w(20) }
}
