// CallStamps: a client stub's own times for one call, taken only while the kernel has a
// trace on (the trap page's `tracing` word), and left in the trap page's report ring for
// the kernel to pick up. They are the client's word, not the kernel's: `nkctl trace`
// labels them so. While nobody traces, a call pays one relaxed load for this.
import CNanoKernel

struct CallStamps {
    var key: UInt32 = 0
    var started: UInt64 = 0
    var argumentsCopied: UInt64 = 0
    var posted: UInt64 = 0
    var woke: UInt64 = 0
    var resultsCopied: UInt64 = 0

    /// Stamps for a call, or nil when nobody traces.
    @inline(__always)
    static func begin(_ page: TrapPage) -> CallStamps? {
        page.tracing.loadRelaxed() == 0 ? nil : CallStamps(started: monotonicNanoseconds())
    }

    /// Leave the report in the ring. Several client threads may report at once: each
    /// claims its own entry; the key is written last, so a reader that sees a key sees
    /// the times written before it (or a later report's, which it will not match).
    func report(binding: UInt32, into page: TrapPage) {
        guard key != 0 else { return }
        let entry = page.report(page.reportsWritten.fetchAdd(1))
        entry.key.storeRelease(0)
        entry.binding.storeRelaxed(binding)
        entry.time(.started).storeRelaxed(started)
        entry.time(.argumentsCopied).storeRelaxed(argumentsCopied)
        entry.time(.posted).storeRelaxed(posted)
        entry.time(.woke).storeRelaxed(woke)
        entry.time(.resultsCopied).storeRelaxed(resultsCopied)
        entry.key.storeRelease(key)
    }
}
