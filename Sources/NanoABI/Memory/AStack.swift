// AStackRegion: the argument stacks of one binding, mapped by exactly its client and
// its server. One slot per simultaneous call. The client stub copies arguments in; the
// server stub copies them out, writes results, and returns without the kernel.
//
// Slot layout (stride = 64 + payload capacity, rounded to a cache line):
//   0 reply          0 idle, 1 pending, 2 done: the client's futex word for the return
//   4 clientWaiting  the client may be asleep on `reply`
//   8 status         ReplyStatus written by the server stub
//   12 argument length   16 result length
//   64 payload (arguments in, results out)
import CNanoKernel

public enum ReplyState: UInt32 {
    case idle = 0
    case pending = 1
    case done = 2
}

public struct AStackGeometry: Sendable, Equatable {
    public let slotCount: Int
    public let payloadCapacity: Int

    public init(slotCount: Int, payloadCapacity: Int) {
        self.slotCount = slotCount
        self.payloadCapacity = payloadCapacity
    }
    public var stride: Int { cacheLineRounded(64 + payloadCapacity) }
    public var regionSize: Int { max(4096, slotCount * stride) }
}

public struct AStackRegion: @unchecked Sendable {
    public let region: SharedRegion
    public let geometry: AStackGeometry

    public init(region: SharedRegion, geometry: AStackGeometry) {
        self.region = region
        self.geometry = geometry
    }

    @inlinable @inline(__always) public func slot(_ i: Int) -> AStackSlot {
        AStackSlot(base: region.base + i * geometry.stride, capacity: geometry.payloadCapacity)
    }
}

public struct AStackSlot {
    @usableFromInline let base: UnsafeMutableRawPointer
    public let capacity: Int
    @inlinable @inline(__always) init(base: UnsafeMutableRawPointer, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }
    @inlinable @inline(__always) func w(_ o: Int) -> SharedWord { SharedWord(at: base + o) }
    @inlinable @inline(__always) public var reply: SharedWord { w(0) }
    @inlinable @inline(__always) public var clientWaiting: SharedWord { w(4) }
    @inlinable @inline(__always) public var status: SharedWord { w(8) }
    @inlinable @inline(__always) public var argumentLength: SharedWord { w(12) }
    @inlinable @inline(__always) public var resultLength: SharedWord { w(16) }
    @inlinable @inline(__always) public var payload: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base + 64, count: capacity)
    }
}
