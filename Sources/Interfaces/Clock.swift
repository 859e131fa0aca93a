// The clock service: wall-clock and monotonic time, and the clock's resolution.
import LRPC

@ServiceInterface("clock")
public protocol Clock {
    func now() -> Timestamp
    func monotonic() -> Timestamp
    /// Nanoseconds.
    func resolution() -> Int64
}

@AStackValue
public struct Timestamp: Sendable, Equatable {
    public var seconds: Int64
    public var nanoseconds: Int64
    public init(seconds: Int64, nanoseconds: Int64) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }
}
