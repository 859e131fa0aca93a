// LogRateLimit: at most N log lines a second from one source; the rest are counted and
// reported in one line, so a hostile domain cannot flood the kernel's log.
import LRPC

struct LogRateLimit {
    let perSecond: Int
    private var windowStart: UInt64 = 0
    private var admitted = 0
    private(set) var suppressed = 0

    init(perSecond: Int) { self.perSecond = perSecond }

    /// Whether a line may be logged now, and how many were dropped before it (to report).
    mutating func admit(now: UInt64 = monotonicNanoseconds()) -> (allowed: Bool, dropped: Int) {
        if now - windowStart >= 1_000_000_000 {
            windowStart = now
            admitted = 0
        }
        guard admitted < perSecond else {
            suppressed += 1
            return (false, 0)
        }
        admitted += 1
        defer { suppressed = 0 }
        return (true, suppressed)
    }
}
