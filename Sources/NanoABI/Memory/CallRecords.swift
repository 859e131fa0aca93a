// CallRecords: one record per A-stack slot of a binding, shared by the kernel and the
// server only. The kernel writes what the client cannot forge (procedure, caller); the
// server thread for the slot sleeps on `sequence` and reports completion in `done`.
// While a call is traced, the server also stamps its own steps here (its word, not the
// kernel's). Layouts: CallRecordsField and CallRecordField; `nkctl layout` prints them.
import CNanoKernel

public enum CallRecordsField: Int, SharedLayoutField {
    case revoked = 0
    case records = 64

    public static let layoutName = "call records header"
    public static let layoutSize = 64
    public static let layoutPlacement = "start of a binding's call-record memfd; mapped by the kernel and the server only"
    public var size: Int { self == .records ? 0 : 4 }
    public var writer: String { self == .revoked ? "kernel" : "see call record" }
    public var meaning: String {
        self == .revoked ? "non-zero once the binding is revoked: the slot threads exit" : "one call record per A-stack slot"
    }
}

public enum CallRecordField: Int, SharedLayoutField {
    case sequence = 0
    case serverWaiting = 4
    case done = 8
    case procedure = 12
    case callerDomain = 16
    case cpu = 20
    case traced = 24
    case serverWoke = 32
    case procedureStarted = 40
    case procedureEnded = 48
    case serverReturned = 56

    public static let layoutName = "call record"
    public static let layoutSize = 64
    public static let layoutPlacement = "record i at 64 + 64 * i in the call-record memfd"
    public var size: Int { rawValue >= 32 ? 8 : 4 }
    public var writer: String {
        switch self {
        case .sequence, .procedure, .callerDomain, .cpu, .traced: "kernel"
        default: "server"
        }
    }
    public var meaning: String {
        switch self {
        case .sequence: "call number on this slot; the kernel bumps it to upcall (the server's futex word)"
        case .serverWaiting: "the slot thread may be asleep on sequence: wake it"
        case .done: "the sequence the server finished: closes the kernel's linkage"
        case .procedure: "procedure id, as the kernel validated it"
        case .callerDomain: "the caller's domain id, from the kernel (never from the client)"
        case .cpu: "CPU to run on (follow-client placement)"
        case .traced: "non-zero: stamp this call's server steps below"
        case .serverWoke: "ns: the slot thread woke (server step 1)"
        case .procedureStarted: "ns: the stub began copying the arguments off the A-stack"
        case .procedureEnded: "ns: the procedure returned and its results are on the A-stack"
        case .serverReturned: "ns: done written; the client is woken next (no return trap)"
        }
    }
}

public struct CallRecords: @unchecked Sendable {
    public let region: SharedRegion
    public let slotCount: Int

    public static func size(slots: Int) -> Int { max(4096, CallRecordsField.records.rawValue + CallRecordField.layoutSize * slots) }

    public init(region: SharedRegion, slotCount: Int) {
        self.region = region
        self.slotCount = slotCount
    }

    @inlinable @inline(__always) public var revoked: SharedWord { region.word(CallRecordsField.revoked.rawValue) }
    @inlinable @inline(__always) public func record(_ slot: Int) -> CallRecord {
        CallRecord(base: region.base + CallRecordsField.records.rawValue + slot * CallRecordField.layoutSize)
    }
}

public struct CallRecord {
    @usableFromInline let base: UnsafeMutableRawPointer
    @inlinable @inline(__always) init(base: UnsafeMutableRawPointer) { self.base = base }
    @inlinable @inline(__always) func w(_ f: CallRecordField) -> SharedWord { SharedWord(at: base + f.rawValue) }
    @inlinable @inline(__always) public var sequence: SharedWord { w(.sequence) }
    @inlinable @inline(__always) public var serverWaiting: SharedWord { w(.serverWaiting) }
    @inlinable @inline(__always) public var done: SharedWord { w(.done) }
    @inlinable @inline(__always) public var procedure: SharedWord { w(.procedure) }
    @inlinable @inline(__always) public var callerDomain: SharedWord { w(.callerDomain) }
    @inlinable @inline(__always) public var cpu: SharedWord { w(.cpu) }
    @inlinable @inline(__always) public var traced: SharedWord { w(.traced) }
    @inlinable @inline(__always) public func time(_ f: CallRecordField) -> SharedWord64 { SharedWord64(at: base + f.rawValue) }
}
