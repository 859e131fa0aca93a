// Bad input from every side: an image that imports what it may not, a malformed
// image, a domain that writes garbage on its control channel, a server that dies in
// the middle of a call. The kernel says what was wrong and keeps running.
import Foundation
import Glibc
import Interfaces
import LRPC
import NanoAdmin
import NanoKernel
import XCTest

final class KernelRobustnessTests: KernelTestCase {
    override var bootsDefaultImage: Bool { false }

    func testAnImportTheImageDoesNotAllowIsRefused() throws {
        let image = kernel.writeImage("""
            [image]
            name = "narrow"

            [operator]
            imports = ["clock"]

            \(KernelHarness.coreServices())
            """)
        try kernel.boot(image: image)
        let runtime = try kernel.connect()
        defer { runtime.close() }
        XCTAssertNoThrow(try runtime.importInterface(ClockInterface.name))
        XCTAssertThrowsError(try runtime.importInterface(BenchInterface.name)) { error in
            XCTAssertTrue("\(error)".contains("may not import 'bench': the image allows clock"), "\(error)")
        }
        XCTAssertTrue(kernel.log.contains("refused import of 'bench'"))
    }

    func testAMalformedImageNamesFileLineAndFieldAndStartsNothing() throws {
        let image = kernel.writeImage("""
            [image]
            name = "broken"

            [[service]]
            name = "clock"
            executable = "nk-clock"
            provides = ["clock"]
            restart = "sometimes"
            """, name: "broken.toml")
        let result = try KernelHarness.run([KernelHarness.nkctl, "boot", "--detach", "--image", image,
                                            "--socket", kernel.socketPath], timeout: 20)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("broken.toml:8: service 'clock'.restart"), result.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: kernel.socketPath), "a kernel started anyway")
    }

    func testGarbageOnAControlChannelDisconnectsOnlyThatDomain() throws {
        try kernel.boot()
        let channel = try ControlChannel.connect(path: kernel.socketPath)
        let garbage: [UInt8] = [0xde, 0xad, 0xbe, 0xef, 0, 1, 2]
        XCTAssertEqual(garbage.withUnsafeBytes { Glibc.send(channel.fd.rawValue, $0.baseAddress, $0.count, 0) }, garbage.count)
        // The kernel drops it and still answers everyone else.
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let clock = try runtime.importInterface(ClockInterface.name)
        clock.callTimeoutSeconds = 10
        XCTAssertGreaterThan(try clock.call(ClockInterface.now, Empty()).seconds, 0)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) { self.kernel.log.contains("did not say hello") })
    }

    func testACallInFlightFailsClearlyWhenTheServerDiesAndTheServerRestarts() throws {
        try kernel.boot()
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let bench = try runtime.importInterface(BenchInterface.name)
        bench.callTimeoutSeconds = 10
        let victim = try kernel.domain("bench")
        let outcome = UnsafeMutablePointer<CallError?>.allocate(capacity: 1)
        outcome.initialize(to: nil)
        defer { outcome.deallocate() }
        let done = DispatchSemaphore(value: 0)
        Thread {
            do { _ = try bench.call(BenchInterface.hold, 5_000) } catch { outcome.pointee = error as? CallError }
            done.signal()
        }.start()
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) { (try? self.kernel.domain("bench").callsServed) ?? 0 >= victim.callsServed + 1 })
        kill(victim.pid, SIGKILL)
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success, "the caller was left waiting")
        guard case .serverDied = outcome.pointee else { return XCTFail("expected serverDied, got \(String(describing: outcome.pointee))") }
        // The image's default restart policy brings the service back under a new domain.
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) {
            (try? self.kernel.domain("bench")).map { $0.state == "ready" && $0.pid != victim.pid } ?? false
        }, kernel.log)
        XCTAssertThrowsError(try bench.call(BenchInterface.null, Empty())) { error in
            XCTAssertEqual(error as? CallError, .refused(.staleBindingObject))
        }
        let fresh = try runtime.importInterface(BenchInterface.name)
        fresh.callTimeoutSeconds = 10
        XCTAssertEqual(try fresh.call(BenchInterface.add, AddArguments(2, 2)), 4)
    }

    func testARestartedNameServiceLearnsEveryInterfaceAgain() throws {
        try kernel.boot()
        let old = try kernel.domain("name")
        kill(old.pid, SIGKILL)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) {
            (try? self.kernel.domain("name")).map { $0.state == "ready" && $0.pid != old.pid } ?? false
        }, kernel.log)
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let names = try runtime.importInterface(NameInterface.name)
        names.callTimeoutSeconds = 10
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) {
            (try? names.call(NameInterface.list, Empty()).names) == ["bench", "clock", "file", "name"]
        }, "registrations after the restart: \(String(describing: try? names.call(NameInterface.list, Empty()).names))")
        XCTAssertEqual(try names.call(NameInterface.lookup, InterfaceName("clock")).domain, try kernel.domain("clock").id)
    }

    func testABindingIsRevokedWhenItsClientLetsGoOfIt() throws {
        try kernel.boot()
        let runtime = try kernel.connect()
        defer { runtime.close() }
        var clock: ClientBinding? = try runtime.importInterface(ClockInterface.name)
        let index = clock!.bindingObject.index
        func listed() -> Bool {
            let body = (try? runtime.admin("bindings")) ?? ""
            return ((try? JSONDecoder().decode([BindingReport].self, from: Data(body.utf8))) ?? []).contains { $0.binding == index }
        }
        XCTAssertTrue(listed())
        clock = nil
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) { !listed() }, "the kernel still lists binding \(index)")
    }
}
