// The null call through the generated rebinding stub (`BenchClient`, a ServiceConnection
// underneath), timed like the binding's own null call. The difference from `null` is
// what finding the live binding and keeping the rebinding deadline cost per call.
import Interfaces
import LRPC

extension CallTimer {
    func measureStubNull(_ bench: BenchBinding) throws -> CallResult {
        let stub = BenchClient(connecting: bench.runtime, transport: bench.transport,
                               callTimeoutSeconds: bench.binding.callTimeoutSeconds)
        var samples = [UInt64](repeating: 0, count: iterations)
        for i in 0..<(warmup + iterations) {
            let start = monotonicNanoseconds()
            do { try stub.null() } catch {
                throw CommandFailed("bench.null (rebinding stub), call \(i): \(error)")
            }
            let end = monotonicNanoseconds()
            if i >= warmup { samples[i - warmup] = end - start }
            if i % 1000 == 0 { progress.show("lrpc null (rebinding stub) \(i)/\(warmup + iterations)") }
        }
        return CallResult(procedure: "null (rebinding stub)", transport: bench.transport, latency: LatencySummary(samples: samples))
    }
}
