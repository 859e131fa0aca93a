// Two clients against one: independent client domains share no lock on the call path,
// so two clients on two CPUs should deliver nearly twice the calls of one. Each client
// is its own domain (its own connection, trap page and kernel trap handler) with its own
// binding to the bench service, and runs on its own pinned thread under follow-client
// placement, so each call chain stays on its client's CPU.
import CNanoKernel
import Foundation
import Glibc
import Interfaces
import LRPC

struct ScalingResult: Encodable {
    let placement: String
    let seconds: Double
    let oneClientCallsPerSec: Double
    let twoClientsCallsPerSec: Double
    let ratio: Double

    init(placement: String, seconds: Double, oneClientCallsPerSec: Double, twoClientsCallsPerSec: Double) {
        self.placement = placement
        self.seconds = seconds
        self.oneClientCallsPerSec = oneClientCallsPerSec
        self.twoClientsCallsPerSec = twoClientsCallsPerSec
        ratio = twoClientsCallsPerSec / max(oneClientCallsPerSec, 1)
    }

    enum CodingKeys: String, CodingKey {
        case placement, seconds, ratio, oneClientCallsPerSec = "one_client_calls_per_sec",
             twoClientsCallsPerSec = "two_clients_calls_per_sec"
    }
}

struct ScalingRun {
    let socketPath: String
    let progress: ProgressLine
    let seconds = 2.0

    func measure(_ tuning: KernelTuning) throws -> ScalingResult {
        try tuning.apply(.followClient, 0)
        let clients = try (0..<2).map { _ in try DomainRuntime.connect(socketPath: socketPath, name: "bench-client") }
        defer { clients.forEach { $0.close() } }
        let bindings = try clients.map { try BenchBinding(runtime: $0, transport: .lrpc) }
        progress.show("scaling: one client")
        let one = try run(Array(bindings.prefix(1)))
        progress.show("scaling: two clients")
        let two = try run(bindings)
        return ScalingResult(placement: Placement.followClient.rawValue, seconds: seconds,
                             oneClientCallsPerSec: one, twoClientsCallsPerSec: two)
    }

    /// Each binding's thread, pinned to CPU i, makes null calls for `seconds`; the total
    /// calls per second of all of them.
    private func run(_ bindings: [BenchBinding]) throws -> Double {
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: bindings.count)
        counts.initialize(repeating: -1, count: bindings.count)
        defer { counts.deallocate() }
        let finished = DispatchGroup()
        let deadline = monotonicNanoseconds() + UInt64(seconds * 1e9)
        for (i, bench) in bindings.enumerated() {
            finished.enter()
            try OSThread.spawn(name: "bench-client-\(i)") {
                defer { finished.leave() }
                _ = nk_pin_thread(Int32(i))
                var calls = 0
                while monotonicNanoseconds() < deadline {
                    guard (try? bench.binding.call(BenchInterface.null, Empty())) != nil else { return }
                    calls += 1
                }
                counts[i] = calls
            }
        }
        guard finished.wait(timeout: .now() + seconds + 15) == .success else { throw CommandFailed("scaling run hung") }
        let all = (0..<bindings.count).map { counts[$0] }
        guard all.allSatisfy({ $0 >= 0 }) else { throw CommandFailed("a scaling client's call failed") }
        return Double(all.reduce(0, +)) / seconds
    }
}
