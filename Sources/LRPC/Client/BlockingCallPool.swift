// BlockingCallPool: the threads an async call waits on. An LRPC call blocks its thread
// on a futex until the server returns; doing that on one of Swift's cooperative threads
// (one per core) would stall every other task. `callAsync` hands the whole synchronous
// call to one of these threads and suspends; that thread resumes the caller's
// continuation when the call returns.
//
// Threads start on demand up to `maximumThreads` (one per A-stack slot a process can
// hold busy is plenty), and a thread idle for `idleSeconds` exits, so a quiet domain
// keeps none.
import Glibc

final class BlockingCallPool: @unchecked Sendable {
    static let shared = BlockingCallPool()

    let maximumThreads = 64
    let idleSeconds = 5.0
    private let monitor = Monitor()
    private var jobs: [@Sendable () -> Void] = []
    private var threads = 0
    private var idle = 0

    /// Run `job` on a pool thread. A job never waits for a thread if one is idle or one
    /// more may start; past the bound it queues behind the calls in flight.
    func run(_ job: @escaping @Sendable () -> Void) {
        let start: Bool = monitor.locked {
            jobs.append(job)
            if idle > jobs.count - 1 { return false }
            guard threads < maximumThreads else { return false }
            threads += 1
            return true
        }
        if start {
            do {
                try OSThread.spawn(name: "nk-async-call") { [self] in work() }
            } catch {
                // Out of threads (RLIMIT_NPROC): the job waits for a running thread, or
                // runs here if there is none, blocking this caller as a sync call would.
                let orphan: (@Sendable () -> Void)? = monitor.locked {
                    threads -= 1
                    return threads == 0 && !jobs.isEmpty ? jobs.removeFirst() : nil
                }
                orphan?()
                return
            }
        }
        monitor.broadcast()
    }

    /// Make the blocking call `body` on a pool thread while the calling task is suspended.
    func call<R: Sendable>(_ body: @escaping @Sendable () throws(CallError) -> R) async throws(CallError) -> R {
        let result: Result<R, CallError> = await withCheckedContinuation { continuation in
            run { continuation.resume(returning: Result(catching: body)) }
        }
        return try result.get()
    }

    private func work() {
        while let job = next() { job() }
    }

    /// The next job, or nil after `idleSeconds` with none (the thread then exits).
    private func next() -> (@Sendable () -> Void)? {
        monitor.locked { idle += 1 }
        let job: (@Sendable () -> Void)?? = monitor.wait(seconds: idleSeconds) {
            jobs.isEmpty ? nil : .some(jobs.removeFirst())
        }
        return monitor.locked {
            idle -= 1
            guard case .some(.some(let j)) = job else {
                // Timed out: leave, unless a job slipped in as the wait ended.
                if jobs.isEmpty { threads -= 1; return nil }
                return jobs.removeFirst()
            }
            return j
        }
    }
}

extension ClientBinding {
    /// The async form of `call`: the calling task suspends, a pool thread makes the
    /// blocking call, and the task resumes with its result. Arguments and results are
    /// copied exactly as in the synchronous call.
    public func callAsync<A: Sendable, R: Sendable>(_ procedure: Procedure<A, R>, _ arguments: A) async throws(CallError) -> R {
        try await BlockingCallPool.shared.call { [self] () throws(CallError) -> R in try call(procedure, arguments) }
    }

    /// The async form of `call(_:_:throwing:)`.
    public func callAsync<A: Sendable, R: Sendable, E: ServiceError>(_ procedure: Procedure<A, R>, _ arguments: A,
                                                                     throwing: E.Type) async throws -> R {
        do {
            return try await callAsync(procedure, arguments)
        } catch {
            throw Self.declared(error, as: E.self)
        }
    }
}
