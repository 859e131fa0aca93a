// Dedicated OS threads. Blocking waits (futexes, control sockets) never run on Swift's
// cooperative pool: each waiter gets a thread of its own.
import CNanoKernel
import Glibc
import SystemPackage

public enum OSThread {
    private final class Box {
        let name: String
        let body: () -> Void
        init(name: String, body: @escaping () -> Void) { self.name = name; self.body = body }
    }

    /// Start a detached thread running `body`. Fails when the process may not have
    /// another thread (a domain's RLIMIT_NPROC).
    public static func spawn(name: String, _ body: @escaping () -> Void) throws {
        let box = Unmanaged.passRetained(Box(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attributes, 512 * 1024)
        let r = pthread_create(&thread, &attributes, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            nk_set_thread_name(String(box.name.prefix(15)))
            box.body()
            return nil
        }, box)
        pthread_attr_destroy(&attributes)
        guard r == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            throw SystemError("starting thread \(name)", Errno(rawValue: r))
        }
    }
}

/// A mutex with a condition, for control-plane hand-offs between threads (never the
/// call path).
public final class Monitor: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()

    public init() {
        pthread_mutex_init(&mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(&condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    public func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }

    public func broadcast() { locked { _ = pthread_cond_broadcast(&condition) } }

    /// Wait until `ready()` returns a value or `seconds` pass (nil then).
    public func wait<T>(seconds: Double, until ready: () -> T?) -> T? {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        if seconds.isFinite {
            let total = Double(deadline.tv_sec) + Double(deadline.tv_nsec) / 1e9 + seconds
            deadline.tv_sec = Int(total)
            deadline.tv_nsec = Int((total - Double(Int(total))) * 1e9)
        }
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while true {
            if let value = ready() { return value }
            if seconds.isInfinite {
                pthread_cond_wait(&condition, &mutex)
            } else if pthread_cond_timedwait(&condition, &mutex, &deadline) == ETIMEDOUT {
                return ready()
            }
        }
    }
}

/// Monotonic time in nanoseconds.
@inline(__always)
public func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
