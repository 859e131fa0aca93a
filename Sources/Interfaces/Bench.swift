// The bench service: the four procedures the LRPC paper measured.
import LRPC

@ServiceInterface("bench")
public protocol Bench {
    @CallOptions(simultaneousCalls: 8) func null()
    @CallOptions(simultaneousCalls: 8) func add(a: Int32, b: Int32) -> Int32
    @CallOptions(simultaneousCalls: 8) func bigIn(_ bytes: BoundedBytes<200>)
    @CallOptions(simultaneousCalls: 8) func bigInOut(_ bytes: BoundedBytes<200>) -> BoundedBytes<200>
    /// Holds its A-stack slot for the given milliseconds: makes a call in flight
    /// observable (`nkctl bindings` shows the A-stack in use; tests trap on a busy slot).
    @CallOptions(simultaneousCalls: 8) func hold(_ milliseconds: UInt32) throws(BenchError)
    /// The pairs sorted by key: a list in and a list out (tests, `nkctl call`). 200 bytes,
    /// like bigInOut's payload, so the bench A-stack does not grow.
    @CallOptions(simultaneousCalls: 8) func sortPairs(_ pairs: BoundedList<BenchPair, 8>) -> BoundedList<BenchPair, 8>
}

@AStackValue
public struct BenchPair: Sendable, Equatable {
    public var key: BoundedText<8>
    public var value: UInt64
}

public enum BenchError: UInt32, ServiceError {
    /// hold is limited to 10 000 ms.
    case holdTooLong
}

extension BenchInterface {
    public static let payloadSize = 200
}

/// Two 4-byte integers in.
public typealias AddArguments = BenchInterface.AddArguments

extension BenchInterface.AddArguments: Equatable {
    public init(_ a: Int32, _ b: Int32) { self.init(a: a, b: b) }
}
