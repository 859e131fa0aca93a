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

    @inline(__always) public var revoked: UnsafeMutablePointer<UInt32> { region.word(0) }
    @inline(__always) public func record(_ slot: Int) -> CallRecord { CallRecord(base: region.base + 64 + slot * 64) }
}

public struct CallRecord {
    let base: UnsafeMutableRawPointer
    @inline(__always) func w(_ o: Int) -> UnsafeMutablePointer<UInt32> {
        (base + o).assumingMemoryBound(to: UInt32.self)
    }
    @inline(__always) public var sequence: UnsafeMutablePointer<UInt32> { w(0) }
    @inline(__always) public var serverWaiting: UnsafeMutablePointer<UInt32> { w(4) }
    @inline(__always) public var done: UnsafeMutablePointer<UInt32> { w(8) }
    @inline(__always) public var procedure: UnsafeMutablePointer<UInt32> { w(12) }
    @inline(__always) public var callerDomain: UnsafeMutablePointer<UInt32> { w(16) }
    @inline(__always) public var cpu: UnsafeMutablePointer<UInt32> { w(20) }
}
