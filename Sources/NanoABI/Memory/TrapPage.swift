// TrapPage: shared by one domain and the kernel. The domain's client stubs post call
// traps here; the kernel's trap handler for that domain takes them.
//
//   offset 0    pending   bit i set = cell i holds a new trap (the kernel's futex word)
//   offset 4    kernelWaiting  the trap handler may be asleep on `pending`
//   offset 64   cells[32], 64 bytes each (one cache line)
//
// Cell layout (all written by the client, so the kernel copies them out once and
// trusts nothing it did not validate):
//   0 state   (sequence << 8 | CellState): the client's futex word for refusals/failures
//   4 procedure id    8 binding index    12 binding generation
//   16 binding secret (64-bit)          24 A-stack slot      28 refusal code (kernel writes)
//   32 the CPU the client trapped from (the follow-client placement)
import CNanoKernel

public enum CellState: UInt32, Sendable {
    case free = 0
    case posted = 1
    case accepted = 2
    case refused = 3
    case failed = 4
}

public struct TrapPage: @unchecked Sendable {
    public static let cellCount = 32
    public static let size = 64 + cellCount * 64

    public let region: SharedRegion
    public init(region: SharedRegion) { self.region = region }

    @inlinable @inline(__always) public var pending: SharedWord { region.word(0) }
    @inlinable @inline(__always) public var kernelWaiting: SharedWord { region.word(4) }
    @inlinable @inline(__always) public func cell(_ i: Int) -> TrapCell { TrapCell(base: region.base + 64 + i * 64) }
}

public struct TrapCell {
    @usableFromInline let base: UnsafeMutableRawPointer
    @inlinable @inline(__always) init(base: UnsafeMutableRawPointer) { self.base = base }
    @inlinable @inline(__always) func w(_ o: Int) -> SharedWord { SharedWord(at: base + o) }
    @inlinable @inline(__always) public var state: SharedWord { w(0) }
    @inlinable @inline(__always) public var procedure: SharedWord { w(4) }
    @inlinable @inline(__always) public var bindingIndex: SharedWord { w(8) }
    @inlinable @inline(__always) public var bindingGeneration: SharedWord { w(12) }
    @inlinable @inline(__always) public var bindingSecret: SharedWord64 { SharedWord64(at: base + 16) }
    @inlinable @inline(__always) public var slot: SharedWord { w(24) }
    @inlinable @inline(__always) public var refusal: SharedWord { w(28) }
    @inlinable @inline(__always) public var cpu: SharedWord { w(32) }

    /// The state word packs a per-use sequence so a late kernel write for an old call
    /// can never land on the cell's next use.
    @inlinable @inline(__always) public static func word(sequence: UInt32, _ state: CellState) -> UInt32 {
        (sequence << 8) | state.rawValue
    }
    @inlinable @inline(__always) public static func state(of word: UInt32) -> CellState? { CellState(rawValue: word & 0xff) }
    @inlinable @inline(__always) public static func sequence(of word: UInt32) -> UInt32 { word >> 8 }
}
