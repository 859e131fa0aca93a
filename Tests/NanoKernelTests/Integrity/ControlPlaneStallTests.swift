// Issue 7, finding 3 (control plane stalls): the kernel never waits on a domain. A service
// that stops reading its control channel, or an operator that sends requests and never
// reads the replies, is cut off once its bounded outbox overflows or goes undrained past
// its deadline; meanwhile `status` keeps answering everyone else. Joining a kernel that
// never answers is a timeout with a clear error, never a hang.
import Foundation
import Glibc
import Interfaces
import LRPC
import NanoAdmin
import NanoKernel
import XCTest

final class ControlPlaneStallTests: HostileKernelTestCase {
    /// `status` round trips (ms) taken until `done()` holds or 15 s pass.
    private func timeStatus(until done: () -> Bool, alongside work: () -> Void) -> [Double] {
        var samples: [Double] = []
        let deadline = monotonicNanoseconds() + 15_000_000_000
        while !done() && monotonicNanoseconds() < deadline {
            work()
            let start = monotonicNanoseconds()
            _ = try? kernel.status()
            samples.append(Double(monotonicNanoseconds() - start) / 1e6)
        }
        return samples.sorted()
    }

    private func summary(_ samples: [Double]) -> String {
        guard !samples.isEmpty else { return "no samples" }
        return "median \(samples[samples.count / 2]) ms, max \(samples.last!) ms over \(samples.count) requests"
    }

    func testAServiceThatStopsReadingIsCutOffAndStatusKeepsAnswering() throws {
        // The hostile domain freezes (as a domain stuck anywhere would): it reads nothing more.
        let hostilePid = try kernel.domain("hostile").pid
        XCTAssertEqual(kill(hostilePid, SIGSTOP), 0)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) {
            ((try? String(contentsOfFile: "/proc/\(hostilePid)/stat", encoding: .utf8)) ?? "").contains(") T ")
        }, "the hostile did not stop")
        // Every tune request makes the kernel send each domain a message; the stopped
        // hostile reads none of them.
        let samples = timeStatus(until: { (try? self.kernel.domain("hostile").state) != "ready" }) {
            for _ in 0..<20 { _ = try? runtime.admin("tune", argument: "placement=follow-client,spin=0") }
        }
        print("status while a service refuses to read: \(summary(samples))")
        assertHostileCutOff(because: "stopped reading its control channel")
        assertEveryoneElseIsFine()
    }

    func testAnOperatorThatStopsReadingIsCutOffAndStatusKeepsAnswering() throws {
        // A raw operator connection: hello, welcome, then requests whose replies it never reads.
        let silent = try ControlChannel.connect(path: kernel.socketPath)
        try silent.send(.hello(domainName: "silent"))
        XCTAssertNotNil(try silent.receive())
        let flags = fcntl(silent.fd.rawValue, F_GETFL)
        _ = fcntl(silent.fd.rawValue, F_SETFL, flags | O_NONBLOCK)
        var sent = 0
        let samples = timeStatus(until: { self.kernel.log.contains("stopped reading its control channel") }) {
            for _ in 0..<200 where (try? silent.send(.admin(request: UInt32(sent), command: "status", argument: ""))) != nil {
                sent += 1
            }
        }
        print("status while an operator refuses to read: \(summary(samples)) (\(sent) unread requests sent)")
        XCTAssertTrue(kernel.log.contains("stopped reading its control channel"), kernel.log.suffix(2000).description)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) {
            (try? self.kernel.status().domains.contains { $0.name.hasPrefix("silent") }) == false
        }, "the silent operator is still admitted")
        assertEveryoneElseIsFine()
    }

    func testJoiningAKernelThatNeverAnswersTimesOut() throws {
        // A socket that accepts and then says nothing: not a kernel, or a stalled one.
        let path = kernel.directory + "/mute.sock"
        let listener = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            path.utf8CString.withUnsafeBytes { raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(raw.count))) }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0)
        XCTAssertEqual(listen(listener, 4), 0)
        let start = monotonicNanoseconds()
        XCTAssertThrowsError(try DomainRuntime.connect(socketPath: path, name: "op", joinTimeoutSeconds: 1)) { error in
            guard case .timedOut(let text) = error as? CallError else { return XCTFail("\(error)") }
            XCTAssertTrue(text.contains("did not welcome"), text)
        }
        XCTAssertLessThan(Double(monotonicNanoseconds() - start) / 1e9, 10, "joining waited far past its timeout")
    }
}
