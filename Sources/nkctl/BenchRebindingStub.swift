// The null call through the generated rebinding stub (`BenchClient`, a ServiceConnection
// underneath) against the binding's own null call. The two alternate call by call, so
// both see the same machine (these VMs drift between two speeds from one run to the
// next); the difference of the medians is what finding the live binding and keeping the
// rebinding deadline cost per call.
import Interfaces
import LRPC

extension CallTimer {
    /// "null (rebinding stub)" and "null (paired)", the binding's calls between them.
    func measureStubNull(_ bench: BenchBinding) throws -> [CallResult] {
        let stub = BenchClient(connecting: bench.runtime, transport: bench.transport,
                               callTimeoutSeconds: bench.binding.callTimeoutSeconds)
        var stubSamples = [UInt64](repeating: 0, count: iterations)
        var bindingSamples = [UInt64](repeating: 0, count: iterations)
        func timed(_ call: () throws -> Void) throws -> UInt64 {
            let start = monotonicNanoseconds()
            try call()
            return monotonicNanoseconds() - start
        }
        for i in 0..<(warmup + iterations) {
            // Which goes first alternates too: neither always follows the other.
            let stubFirst = i % 2 == 0
            var stubTime: UInt64 = 0, bindingTime: UInt64 = 0
            do {
                if stubFirst { stubTime = try timed { try stub.null() } }
                bindingTime = try timed { _ = try bench.binding.call(BenchInterface.null, Empty()) }
                if !stubFirst { stubTime = try timed { try stub.null() } }
            } catch {
                throw CommandFailed("bench.null (rebinding stub or paired), call \(i): \(error)")
            }
            if i >= warmup {
                stubSamples[i - warmup] = stubTime
                bindingSamples[i - warmup] = bindingTime
            }
            if i % 1000 == 0 { progress.show("\(bench.transport.rawValue) null (rebinding stub) \(i)/\(warmup + iterations)") }
        }
        return [CallResult(procedure: Self.stubNull, transport: bench.transport, latency: LatencySummary(samples: stubSamples)),
                CallResult(procedure: Self.pairedNull, transport: bench.transport, latency: LatencySummary(samples: bindingSamples))]
    }

    static let stubNull = "null (rebinding stub)"
    static let pairedNull = "null (paired)"
}
