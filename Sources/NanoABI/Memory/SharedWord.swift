// SharedWord: one 32-bit word that two parties touch at once: a futex word or a field
// of a trap cell, call record or A-stack slot header in memory shared by two processes,
// or a process-local word that threads share. Only atomic operations reach it, and
// every wait and wake names the word it works on, so the layouts in this module expose
// typed words instead of raw pointers. Everything is inlined: the call path is built
// from these.
import CNanoKernel

public struct SharedWord: @unchecked Sendable {
    @usableFromInline let address: UnsafeMutablePointer<UInt32>

    /// The word at `address` (inside a mapping whose owner outlives this value).
    @inlinable @inline(__always)
    public init(at address: UnsafeMutableRawPointer) {
        self.address = address.assumingMemoryBound(to: UInt32.self)
    }

    /// A process-local word on the heap; its owner calls `deallocate()`.
    public static func allocate(initial: UInt32 = 0) -> SharedWord {
        let p = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
        p.initialize(to: initial)
        return SharedWord(at: UnsafeMutableRawPointer(p))
    }

    public func deallocate() { address.deallocate() }

    @inlinable @inline(__always) public func loadRelaxed() -> UInt32 { nk_load_relaxed(address) }
    @inlinable @inline(__always) public func loadAcquire() -> UInt32 { nk_load_acquire(address) }
    /// Sequentially consistent: the waiting-flag protocol needs it (see `wakeIfWaiting`).
    @inlinable @inline(__always) public func load() -> UInt32 { nk_load_seq(address) }
    @inlinable @inline(__always) public func storeRelaxed(_ v: UInt32) { nk_store_relaxed(address, v) }
    @inlinable @inline(__always) public func storeRelease(_ v: UInt32) { nk_store_release(address, v) }
    @inlinable @inline(__always) public func store(_ v: UInt32) { nk_store_seq(address, v) }
    @inlinable @inline(__always) public func exchange(_ v: UInt32) -> UInt32 { nk_exchange(address, v) }
    @inlinable @inline(__always) @discardableResult
    public func fetchOr(_ v: UInt32) -> UInt32 { nk_fetch_or(address, v) }
    @inlinable @inline(__always) @discardableResult
    public func fetchAnd(_ v: UInt32) -> UInt32 { nk_fetch_and(address, v) }
    @inlinable @inline(__always) @discardableResult
    public func fetchAdd(_ v: UInt32) -> UInt32 { nk_fetch_add(address, v) }
    /// Replace `expected` by `desired`; false if the word held something else.
    @inlinable @inline(__always)
    public func compareExchange(_ expected: UInt32, _ desired: UInt32) -> Bool {
        nk_compare_exchange(address, expected, desired) != 0
    }

    // MARK: futex

    /// Sleep while the word holds `expected`, at most `timeoutNanoseconds` (0 = forever).
    /// Returns 0 when woken or the word changed, -1 with errno (ETIMEDOUT, EINTR, EAGAIN).
    @inlinable @inline(__always) @discardableResult
    public func wait(expected: UInt32, timeoutNanoseconds: UInt64) -> Int32 {
        nk_futex_wait(address, expected, timeoutNanoseconds)
    }

    /// Sleep while the word holds `expected`, at most until `deadlineNanoseconds` on the
    /// monotonic clock (absolute, like `waitEither`). Returns 0 when woken or the word
    /// changed, -1 with errno (ETIMEDOUT once the deadline passed, EINTR, EAGAIN).
    @inlinable @inline(__always) @discardableResult
    public func wait(expected: UInt32, untilNanoseconds deadlineNanoseconds: UInt64) -> Int32 {
        nk_futex_wait_until(address, expected, deadlineNanoseconds)
    }

    @inlinable @inline(__always)
    public func wake(count: Int32 = 1) { _ = nk_futex_wake(address, count) }

    /// Wake the waiters on this word if `flag` says one may be asleep. The waiter sets
    /// the flag and re-reads the word (both sequentially consistent) before it sleeps,
    /// so a wake-up is never lost and a peer that is still spinning costs no system call.
    @inlinable @inline(__always)
    public func wakeIfWaiting(flag: SharedWord) {
        if flag.load() != 0 { _ = nk_futex_wake(address, Int32.max) }
    }

    /// Sleep until either word differs from its expected value (futex_waitv), at most
    /// until `deadlineNanoseconds` on the monotonic clock (absolute: the waiter passes a
    /// deadline it already holds, so the wait itself reads no clock). Returns the index
    /// of the word that woke us, or -1 with errno (ETIMEDOUT once the deadline passed).
    @inlinable @inline(__always)
    public static func waitEither(_ first: SharedWord, _ firstExpected: UInt32,
                                  _ second: SharedWord, _ secondExpected: UInt32, untilNanoseconds deadlineNanoseconds: UInt64) -> Int32 {
        nk_futex_wait2_until(first.address, firstExpected, second.address, secondExpected, deadlineNanoseconds)
    }
}

/// A 64-bit counter or secret in shared memory (never a futex word).
public struct SharedWord64: @unchecked Sendable {
    @usableFromInline let address: UnsafeMutablePointer<UInt64>

    @inlinable @inline(__always)
    public init(at address: UnsafeMutableRawPointer) {
        self.address = address.assumingMemoryBound(to: UInt64.self)
    }

    public static func allocate(initial: UInt64 = 0) -> SharedWord64 {
        let p = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        p.initialize(to: initial)
        return SharedWord64(at: UnsafeMutableRawPointer(p))
    }

    public func deallocate() { address.deallocate() }

    @inlinable @inline(__always) public func loadRelaxed() -> UInt64 { nk_load64_relaxed(address) }
    @inlinable @inline(__always) public func storeRelaxed(_ v: UInt64) { nk_store64_relaxed(address, v) }
    @inlinable @inline(__always) @discardableResult
    public func fetchAdd(_ v: UInt64) -> UInt64 { nk_fetch_add64(address, v) }
}
