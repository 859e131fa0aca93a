// The async null call: `callAsync` from a Swift task, timed like the synchronous calls.
// The difference from the synchronous null is what the hand-off costs: the task
// suspends, a pool thread makes the blocking call, and the task resumes on the
// cooperative pool.
import Foundation
import Interfaces
import LRPC

extension CallTimer {
    func measureAsyncNull(_ bench: BenchBinding) throws -> CallResult {
        let iterations = self.iterations, warmup = self.warmup, binding = bench.binding
        let outcome = AsyncOutcome()
        let done = DispatchSemaphore(value: 0)
        // This thread is nkctl's main thread, not one of the pool's: it may block.
        Task {
            var samples = [UInt64](repeating: 0, count: iterations)
            do {
                for i in 0..<(warmup + iterations) {
                    let start = monotonicNanoseconds()
                    _ = try await binding.callAsync(BenchInterface.null, Empty())
                    if i >= warmup { samples[i - warmup] = monotonicNanoseconds() - start }
                }
                outcome.set(.success(samples))
            } catch {
                outcome.set(.failure(error))
            }
            done.signal()
        }
        progress.show("lrpc null (async)")
        done.wait()
        let samples: [UInt64]
        do { samples = try outcome.get() } catch { throw CommandFailed("bench.null (async): \(error)") }
        return CallResult(procedure: "null (async)", transport: .lrpc, latency: LatencySummary(samples: samples))
    }
}

private final class AsyncOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<[UInt64], any Error> = .success([])
    func set(_ r: Result<[UInt64], any Error>) { lock.lock(); result = r; lock.unlock() }
    func get() throws -> [UInt64] { lock.lock(); defer { lock.unlock() }; return try result.get() }
}
