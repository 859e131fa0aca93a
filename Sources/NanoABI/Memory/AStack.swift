// AStackRegion: the argument stacks of one binding, mapped by exactly its client and
// its server. One slot per simultaneous call. The client stub copies arguments in; the
// server stub copies them out, writes results, and returns without the kernel.
//
// Slot layout: AStackSlotField below (stride = 64 + payload capacity, rounded to a
// cache line); `nkctl layout` prints it.
import CNanoKernel

public enum AStackSlotField: Int, SharedLayoutField {
    case reply = 0
    case clientWaiting = 4
    case status = 8
    case argumentLength = 12
    case resultLength = 16
    case payload = 64

    public static let layoutName = "A-stack slot"
    public static let layoutSize = 64
    public static let layoutPlacement = "slot i of a binding's A-stack memfd, at i * stride; mapped by its client and its server only"
    public var size: Int { self == .payload ? 0 : 4 }
    public var writer: String {
        switch self {
        case .reply: "client and server"
        case .clientWaiting, .argumentLength: "client"
        case .status, .resultLength: "server"
        case .payload: "client, then server"
        }
    }
    public var meaning: String {
        switch self {
        case .reply: "0 idle, 1 pending, 2 done, 3 revoked (client, on the kernel's revocation notice): the client's futex word for the return"
        case .clientWaiting: "the client may be asleep on reply: wake it"
        case .status: "ReplyStatus from the server stub"
        case .argumentLength: "bytes of arguments in payload"
        case .resultLength: "bytes of results in payload"
        case .payload: "arguments in, results out (the procedure's A-stack size; stride = 64 + capacity, rounded to 64)"
        }
    }
}


public enum ReplyState: UInt32 {
    case idle = 0
    case pending = 1
    case done = 2
    /// Written by the client itself (its control thread) over `pending` when the kernel
    /// revokes the binding: it wakes a caller asleep on this word alone, which then finds
    /// its trap refused or failed in its trap cell (see ClientBinding.markRevoked).
    case revoked = 3
}

public struct AStackGeometry: Sendable, Equatable {
    public let slotCount: Int
    public let payloadCapacity: Int

    public init(slotCount: Int, payloadCapacity: Int) {
        self.slotCount = slotCount
        self.payloadCapacity = payloadCapacity
    }
    public var stride: Int { cacheLineRounded(AStackSlotField.payload.rawValue + payloadCapacity) }
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
    @inlinable @inline(__always) func w(_ f: AStackSlotField) -> SharedWord { SharedWord(at: base + f.rawValue) }
    @inlinable @inline(__always) public var reply: SharedWord { w(.reply) }
    @inlinable @inline(__always) public var clientWaiting: SharedWord { w(.clientWaiting) }
    @inlinable @inline(__always) public var status: SharedWord { w(.status) }
    @inlinable @inline(__always) public var argumentLength: SharedWord { w(.argumentLength) }
    @inlinable @inline(__always) public var resultLength: SharedWord { w(.resultLength) }
    @inlinable @inline(__always) public var payload: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base + AStackSlotField.payload.rawValue, count: capacity)
    }
}
