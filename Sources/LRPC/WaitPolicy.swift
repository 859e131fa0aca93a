// How long a waiter spins on a shared word before it sleeps on its futex.
//
// Every waiter announces itself in a "waiting" word before it sleeps; the waker stores
// the new value first and calls FUTEX_WAKE only when the flag is set
// (`SharedWord.wakeIfWaiting`). Both sides use sequentially consistent operations, so a
// wake-up is never lost and the common case (peer still spinning) costs no system call.
import CNanoKernel

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
