// CallDeadline: the moment a call gives up waiting, on the monotonic clock. Every call
// has one (the binding's default, or the caller's own), and so does every wait inside
// it: for a free A-stack, for the return, for a rebinding after the server restarted.

public struct CallDeadline: Sendable, Equatable {
    /// Monotonic nanoseconds.
    public let instant: UInt64
    /// When the deadline was set (monotonic nanoseconds): a call's first wait counts its
    /// timeout from here, so a call that sleeps once reads the clock once, here.
    public let start: UInt64
    /// What the caller asked for, for messages.
    public let seconds: Double

    /// `seconds` from now; zero or negative is the caller's mistake, caught before here
    /// (nkctl: a usage error), and is treated as "already past".
    public init(seconds: Double) {
        self.seconds = seconds
        let span = seconds.isFinite && seconds > 0 ? min(seconds, 1e9) * 1e9 : 0
        start = monotonicNanoseconds()
        instant = start &+ UInt64(span)
    }

    public var remainingNanoseconds: UInt64 {
        let now = monotonicNanoseconds()
        return now >= instant ? 0 : instant - now
    }

    public var remainingSeconds: Double { Double(remainingNanoseconds) / 1e9 }

    public func describe() -> String { seconds < 1 ? "\(Int((seconds * 1000).rounded())) ms" : "\(seconds) s" }
}
