// TrapPage: shared by one domain and the kernel. The domain's client stubs post call
// traps in its cells; the kernel's trap handler for that domain takes them. While a
// trace is on, the client stubs also leave a report of each call's own steps in the
// page's report ring (untrusted: the kernel shows it labelled as the domain's word).
// The byte layouts are the enums below (see SharedLayout.swift and docs/layout.md).
import CNanoKernel

public enum CellState: UInt32, Sendable {
    case free = 0
    case posted = 1
    case accepted = 2
    case refused = 3
    case failed = 4
}

/// The page header, then the cells, then the report ring.
public enum TrapPageField: Int, SharedLayoutField {
    case pending = 0
    case kernelWaiting = 4
    case tracing = 8
    case reportsWritten = 12
    case cells = 64
    case reports = 2112

    public static let layoutName = "trap page"
    public static let layoutSize = TrapPage.size
    public static let layoutPlacement = "one per domain; mapped by the domain and the kernel"
    public var size: Int {
        switch self {
        case .cells: TrapPage.cellCount * TrapCellField.layoutSize
        case .reports: TrapPage.reportCount * CallReportField.layoutSize
        default: 4
        }
    }
    public var writer: String {
        switch self {
        case .pending: "client sets, kernel clears"
        case .kernelWaiting, .tracing: "kernel"
        case .reportsWritten, .reports: "client"
        case .cells: "see trap cell"
        }
    }
    public var meaning: String {
        switch self {
        case .pending: "bit i = cell i holds a new trap: the doorbell (the kernel's futex word)"
        case .kernelWaiting: "the trap handler may be asleep on pending: wake it"
        case .tracing: "non-zero while `nkctl trace` runs: client stubs then time their steps"
        case .reportsWritten: "call reports written so far (the ring's head)"
        case .cells: "32 trap cells of 64 bytes"
        case .reports: "32 call reports of 64 bytes, a ring"
        }
    }
}

/// One trap: the trap registers of the paper, in memory. All but `refusal` are written
/// by the client, so the kernel copies them out once and trusts nothing it did not check.
public enum TrapCellField: Int, SharedLayoutField {
    case state = 0
    case procedure = 4
    case bindingIndex = 8
    case bindingGeneration = 12
    case bindingSecret = 16
    case slot = 24
    case refusal = 28
    case cpu = 32

    public static let layoutName = "trap cell"
    public static let layoutSize = 64
    public static let layoutPlacement = "in the trap page, at 64 + 64 * cell"
    public var size: Int { self == .bindingSecret ? 8 : 4 }
    public var writer: String {
        switch self {
        case .state: "client and kernel"
        case .refusal: "kernel"
        default: "client"
        }
    }
    public var meaning: String {
        switch self {
        case .state: "sequence << 8 | CellState (free, posted, accepted, refused, failed)"
        case .procedure: "procedure id (trap register)"
        case .bindingIndex: "binding object: table index"
        case .bindingGeneration: "binding object: generation"
        case .bindingSecret: "binding object: 64-bit secret"
        case .slot: "A-stack slot (trap register)"
        case .refusal: "Refusal code when state is refused"
        case .cpu: "CPU the client trapped from (a placement hint)"
        }
    }
}

/// What a client stub reports about one of its calls while a trace is on.
public enum CallReportField: Int, SharedLayoutField {
    case key = 0
    case binding = 4
    case started = 8
    case argumentsCopied = 16
    case posted = 24
    case woke = 32
    case resultsCopied = 40

    public static let layoutName = "call report"
    public static let layoutSize = 64
    public static let layoutPlacement = "in the trap page's ring, at 2112 + 64 * (n % 32); only while tracing"
    public var size: Int { self == .key || self == .binding ? 4 : 8 }
    public var writer: String { "client" }
    public var meaning: String {
        switch self {
        case .key: "which trap: cell << 24 | cell sequence (LRPC), or 1 << 31 | message number"
        case .binding: "binding index"
        case .started: "CLOCK_MONOTONIC ns: the stub began (client step 1)"
        case .argumentsCopied: "ns: arguments on the A-stack or in the message (client step 2)"
        case .posted: "ns: trap posted, doorbell rung (client steps 3-4)"
        case .woke: "ns: the client thread woke with the return"
        case .resultsCopied: "ns: results copied off the A-stack"
        }
    }
}

public struct TrapPage: @unchecked Sendable {
    public static let cellCount = 32
    public static let reportCount = 32
    public static let size = TrapPageField.reports.rawValue + reportCount * CallReportField.layoutSize

    public let region: SharedRegion
    public init(region: SharedRegion) { self.region = region }

    @inlinable @inline(__always) public var pending: SharedWord { region.word(TrapPageField.pending.rawValue) }
    @inlinable @inline(__always) public var kernelWaiting: SharedWord { region.word(TrapPageField.kernelWaiting.rawValue) }
    @inlinable @inline(__always) public var tracing: SharedWord { region.word(TrapPageField.tracing.rawValue) }
    @inlinable @inline(__always) public var reportsWritten: SharedWord { region.word(TrapPageField.reportsWritten.rawValue) }
    @inlinable @inline(__always) public func cell(_ i: Int) -> TrapCell {
        TrapCell(base: region.base + TrapPageField.cells.rawValue + i * TrapCellField.layoutSize)
    }
    @inlinable @inline(__always) public func report(_ n: UInt32) -> CallReport {
        CallReport(base: region.base + TrapPageField.reports.rawValue + Int(n % UInt32(Self.reportCount)) * CallReportField.layoutSize)
    }
}

public struct TrapCell {
    @usableFromInline let base: UnsafeMutableRawPointer
    @inlinable @inline(__always) init(base: UnsafeMutableRawPointer) { self.base = base }
    @inlinable @inline(__always) func w(_ f: TrapCellField) -> SharedWord { SharedWord(at: base + f.rawValue) }
    @inlinable @inline(__always) public var state: SharedWord { w(.state) }
    @inlinable @inline(__always) public var procedure: SharedWord { w(.procedure) }
    @inlinable @inline(__always) public var bindingIndex: SharedWord { w(.bindingIndex) }
    @inlinable @inline(__always) public var bindingGeneration: SharedWord { w(.bindingGeneration) }
    @inlinable @inline(__always) public var bindingSecret: SharedWord64 { SharedWord64(at: base + TrapCellField.bindingSecret.rawValue) }
    @inlinable @inline(__always) public var slot: SharedWord { w(.slot) }
    @inlinable @inline(__always) public var refusal: SharedWord { w(.refusal) }
    @inlinable @inline(__always) public var cpu: SharedWord { w(.cpu) }

    /// The state word packs a per-use sequence so a late kernel write for an old call
    /// can never land on the cell's next use.
    @inlinable @inline(__always) public static func word(sequence: UInt32, _ state: CellState) -> UInt32 {
        (sequence << 8) | state.rawValue
    }
    @inlinable @inline(__always) public static func state(of word: UInt32) -> CellState? { CellState(rawValue: word & 0xff) }
    @inlinable @inline(__always) public static func sequence(of word: UInt32) -> UInt32 { word >> 8 }
    /// The trace key of a trap: which cell, which use of it.
    @inlinable @inline(__always) public static func traceKey(cell: Int, sequence: UInt32) -> UInt32 {
        UInt32(cell) << 24 | (sequence & 0xff_ffff)
    }
}

/// One entry of the report ring. Times are CLOCK_MONOTONIC nanoseconds, one clock for
/// every process on the machine.
public struct CallReport {
    @usableFromInline let base: UnsafeMutableRawPointer
    @inlinable @inline(__always) init(base: UnsafeMutableRawPointer) { self.base = base }
    @inlinable @inline(__always) public var key: SharedWord { SharedWord(at: base + CallReportField.key.rawValue) }
    @inlinable @inline(__always) public var binding: SharedWord { SharedWord(at: base + CallReportField.binding.rawValue) }
    @inlinable @inline(__always) public func time(_ f: CallReportField) -> SharedWord64 { SharedWord64(at: base + f.rawValue) }
}
