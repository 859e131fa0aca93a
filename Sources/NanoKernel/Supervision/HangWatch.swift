// HangWatch: which servers hold a call past their image's hang limit. The kernel samples
// the calls in flight (from its own linkages) each turn of its event loop; a call seen
// in flight under the same sequence for longer than the limit marks its server hung,
// and the kernel restarts it. Off the call path: no clock is read per call.
struct HangWatch {
    struct Call: Hashable {
        let binding: UInt32
        let slot: Int
        let sequence: UInt32
    }

    /// When each call now in flight was first seen.
    private var firstSeen: [Call: UInt64] = [:]

    /// `inFlight`: every call in flight on a server with a limit, with its limit and
    /// server. Returns the servers (ids) with a call past its limit; calls no longer in
    /// flight are forgotten.
    mutating func sample(_ inFlight: [(call: Call, limitNanoseconds: UInt64, server: UInt32)], now: UInt64) -> Set<UInt32> {
        var seen: [Call: UInt64] = [:]
        var hung: Set<UInt32> = []
        for entry in inFlight {
            let since = firstSeen[entry.call] ?? now
            seen[entry.call] = since
            if now - since > entry.limitNanoseconds { hung.insert(entry.server) }
        }
        firstSeen = seen
        return hung
    }
}
