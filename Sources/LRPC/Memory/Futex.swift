// Waiting on a word in shared memory: spin briefly, then sleep on the futex.
//
// Every waiter announces itself in a "waiting" word before it sleeps; the waker stores
// the new value first and calls FUTEX_WAKE only when the flag is set. Both sides use
// sequentially consistent operations, so a wake-up is never lost and the common case
// (peer still spinning) costs no system call.
import CNanoKernel
import Glibc

public enum Futex {
    /// Sleep while `word == expected`, at most `timeoutNanoseconds` (0 = forever).
    @inline(__always)
    public static func wait(_ word: UnsafeMutablePointer<UInt32>, expected: UInt32, timeoutNanoseconds: UInt64) {
        _ = nk_futex_wait(word, expected, timeoutNanoseconds)
    }

    @inline(__always)
    public static func wake(_ word: UnsafeMutablePointer<UInt32>, count: Int32 = 1) {
        _ = nk_futex_wake(word, count)
    }

    /// Wake a peer if it announced that it may be asleep.
    @inline(__always)
    public static func wakeIfWaiting(_ word: UnsafeMutablePointer<UInt32>, waitingFlag: UnsafeMutablePointer<UInt32>) {
        if nk_load_seq(waitingFlag) != 0 { _ = nk_futex_wake(word, Int32.max) }
    }
}

/// How long a waiter spins before it sleeps, in pause iterations. Where a thread waits
/// decides how fast it is woken: on these VMs a cross-CPU wake-up costs tens of
/// microseconds, so a short spin wins when the peer answers from another CPU; when
/// the peer needs this CPU, spinning only delays it. `Tuning` holds the current value.
public struct WaitPolicy: Sendable, Equatable {
    public var spinIterations: Int

    public init(spinIterations: Int) { self.spinIterations = spinIterations }

    public static let pureFutex = WaitPolicy(spinIterations: 0)

    /// Spin until `done()` holds or the budget runs out. Returns whether it held.
    @inline(__always)
    public func spin(until done: () -> Bool) -> Bool {
        var i = 0
        while i < spinIterations {
            if done() { return true }
            nk_cpu_relax()
            i += 1
        }
        return done()
    }
}
