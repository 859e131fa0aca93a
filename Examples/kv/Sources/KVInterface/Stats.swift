// The stats interface: a summary of the store, stamped by the clock.
import Interfaces
import LRPC

@ServiceInterface("stats")
public protocol Stats {
    func summary() throws(StatsError) -> Summary
}

@AStackValue
public struct Summary: Sendable, Equatable {
    public var keys: UInt32
    public var takenAt: Timestamp
    public var rebinds: UInt32
}

public enum StatsError: UInt32, ServiceError {
    case storeUnavailable, clockUnavailable
}
