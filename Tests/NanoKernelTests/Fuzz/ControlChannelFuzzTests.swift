// Fuzzing the control channel from a domain's side: an operator connection held by the
// test process (the same kernel code routes a service's frames), reconnecting whenever
// the kernel cuts it off. Seeded: a failure names its seed and last frames.
import Foundation
import Glibc
import KernelFuzz
import Interfaces
import LRPC
import XCTest

final class ControlChannelFuzzTests: KernelFuzzTestCase {
    func testControlFramesFromADomain() throws {
        let seed = seed(0xC0_47_01)
        var fuzzer = ControlFrameFuzzer(seed: seed)
        var sent = 0, connections = 0, cutOff = 0, refusedAtHello = 0
        var byKind: [ControlFrame.Kind: Int] = [:]
        let deadline = Date().addingTimeInterval(Self.budgetSeconds)
        while Date() < deadline {
            guard let domain = RawOperator(socketPath: kernel.socketPath) else {
                refusedAtHello += 1
                XCTAssertLessThan(refusedAtHello, 200, "the kernel stopped welcoming operators; seed \(seed)\n\(kernel.log.suffix(3000))")
                if refusedAtHello >= 200 { break }
                usleep(20_000)
                continue
            }
            connections += 1
            if fuzzer.random.chance(50) {
                domain.send(ControlMessage.importInterface(request: 1, name: ClockInterface.name, transport: fuzzer.random.pick([nil, .message]),
                                                           waitMilliseconds: 1000).encoded())
                domain.waitForReply(timeout: 5) { if case .imported = $0 { true } else if case .failed = $0 { true } else { false } }
                fuzzer.ownBindings = domain.imported.map(\.0)
            }
            for _ in 0..<(1 + fuzzer.random.below(8)) {
                let frame = fuzzer.next()
                remember(frame.summary)
                guard domain.send(frame.bytes, descriptors: frame.descriptors) else { break }
                sent += 1
                byKind[frame.kind, default: 0] += 1
                domain.drain()
            }
            if domain.waitForClose(timeout: 0.02) { cutOff += 1 }
            domain.close()
            if connections % 40 == 0 { assertKernelHealthy(seed: seed) }
        }
        print("fuzz control: \(sent) frames over \(connections) connections (\(cutOff) cut off, \(refusedAtHello) refused at hello); "
              + byKind.map { "\($0.key.rawValue) \($0.value)" }.sorted().joined(separator: ", "))
        XCTAssertGreaterThan(sent, 0)
        assertKernelHealthy(seed: seed)
        assertResourcesBackToBaseline(seed: seed)
    }

    /// Finding (seed 12601089): a client cut off just after its message binding was made
    /// took the binding with it while the kernel's relay thread for it was only starting;
    /// the thread then read the freed binding and the kernel died. The relay thread
    /// holds its binding while it runs.
    func testAClientCutOffAsItsMessageBindingIsMadeLeavesTheKernelRunning() throws {
        var bound = 0
        for round in 0..<150 {
            guard let domain = RawOperator(socketPath: kernel.socketPath) else {
                usleep(20_000)
                continue
            }
            domain.send(ControlMessage.importInterface(request: 1, name: BenchInterface.name, transport: .message, waitMilliseconds: 1000).encoded())
            if domain.waitForReply(timeout: 5, where: { if case .imported = $0 { true } else { false } }) { bound += 1 }
            domain.send([0xff])  // garbage: cut off at once
            _ = domain.waitForClose(timeout: 5)
            domain.close()
            if kill(kernelPid, 0) != 0 { return XCTFail("the kernel died in round \(round)\n\(kernel.log.suffix(3000))") }
        }
        XCTAssertGreaterThan(bound, 100, "too few message bindings were made to show anything")
        assertEveryoneElseIsFine()
        assertResourcesBackToBaseline(seed: 0)
    }

    /// Finding (the admin surface): `tune` took any spin up to 2^32 pause iterations, which
    /// every waiting thread of the kernel and of every domain then spins before it sleeps.
    /// A spin over Tuning.maximumSpin is refused with the bound named; nothing changes.
    func testATuneWithAnUnboundedSpinIsRefused() throws {
        let before = try runtime.admin("tune")
        XCTAssertThrowsError(try runtime.admin("tune", argument: "placement=scheduler,spin=4294967295")) { error in
            XCTAssertTrue("\(error)".contains("0...\(Tuning.maximumSpin)"), "\(error)")
        }
        XCTAssertEqual(try runtime.admin("tune"), before)
        XCTAssertNoThrow(try runtime.admin("tune", argument: "placement=scheduler,spin=\(Tuning.maximumSpin)"))
        XCTAssertNoThrow(try runtime.admin("tune", argument: "placement=scheduler,spin=0"))
        assertEveryoneElseIsFine()
    }
}
