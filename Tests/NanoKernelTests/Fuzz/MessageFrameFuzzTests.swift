// Fuzzing the message transport: a client's frames on its message binding's socket go
// to the kernel's relay, which validates them like traps before bench sees any. Random
// frames, headers nearly right (lengths, binding objects, procedures), truncated, over
// the binding's size, and bodies of any bytes for a real procedure.
import Foundation
import Glibc
import KernelFuzz
import Interfaces
import LRPC
import SystemPackage
import XCTest

final class MessageFrameFuzzTests: KernelFuzzTestCase {
    func testMessageFramesFromAClient() throws {
        let seed = seed(0x3E55_A6E)
        var random = FuzzRandom(seed: seed)
        guard let domain = RawOperator(socketPath: kernel.socketPath) else { return XCTFail("no welcome") }
        defer { domain.close() }
        domain.send(ControlMessage.importInterface(request: 2, name: BenchInterface.name, transport: .message, waitMilliseconds: 2000).encoded())
        XCTAssertTrue(domain.waitForReply(timeout: 10) { if case .imported = $0 { true } else { false } }, "no bench binding")
        guard let (bo, geometry, socket) = domain.imported.first else { return XCTFail("no binding") }
        var limit = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(socket.rawValue, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let procedures = BenchInterface.all.map(\.id)
        var sent = 0, replies = 0, refused = 0
        var reply = [UInt8](repeating: 0, count: CallMessage.replyHeader + geometry.payloadCapacity + 64)
        let deadline = Date().addingTimeInterval(Self.budgetSeconds)
        while Date() < deadline {
            var frame: [UInt8]
            if random.chance(15) {
                frame = random.bytes(random.below(random.chance(50) ? 40 : CallMessage.requestHeader + geometry.payloadCapacity + 200))
            } else {
                var target = bo
                if random.chance(15) { target.secret ^= random.next() }
                if random.chance(10) { target.index = random.edgeWord() }
                if random.chance(10) { target.generation = random.edgeWord() }
                let body = random.bytes(random.below(geometry.payloadCapacity + 1))
                let length = random.chance(70) ? UInt32(body.count) : random.edgeWord()
                let procedure = random.chance(85) ? random.pick(procedures) : random.edgeWord()
                frame = [UInt8](repeating: 0, count: CallMessage.requestHeader)
                frame.withUnsafeMutableBytes {
                    CallMessage.Request(binding: target, procedure: procedure, argumentLength: length, cpu: random.chance(90) ? 0 : random.edgeWord())
                        .write(to: $0)
                    $0.storeBytes(of: random.chance(80) ? 0 : random.edgeWord(), toByteOffset: CallMessage.requestTraceKey, as: UInt32.self)
                }
                frame += body
                if random.chance(10) { frame = Array(frame.prefix(random.below(frame.count))) }
                if random.chance(5) { frame += random.bytes(random.pick([1, 64, 4096])) }
            }
            remember("\(frame.count) bytes: " + frame.prefix(32).map { String($0, radix: 16) }.joined(separator: " "))
            let n = frame.withUnsafeBytes { send(socket.rawValue, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno != EMSGSIZE {
                XCTFail("the relay stopped taking messages (errno \(errno)); seed \(seed)\n" + recent.joined(separator: "\n"))
                break
            }
            sent += 1
            // Every message gets one reply (bench's, or the kernel's refusal): bounded wait.
            var p = pollfd(fd: socket.rawValue, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 5_000) > 0 else {
                XCTFail("no reply within 5 s to a message; seed \(seed)\n" + recent.joined(separator: "\n"))
                break
            }
            let r = reply.withUnsafeMutableBytes { recv(socket.rawValue, $0.baseAddress, $0.count, 0) }
            guard r >= CallMessage.replyHeader else {
                XCTFail("the relay closed the binding (\(r)); seed \(seed)\n" + recent.joined(separator: "\n"))
                break
            }
            replies += 1
            let status = reply.withUnsafeBytes { CallMessage.Reply(reading: $0).status }
            if status >= CallMessage.refusedStatus && status < CallMessage.serverDiedStatus { refused += 1 }
            if sent % 500 == 0 { assertKernelHealthy(seed: seed) }
        }
        print("fuzz message frames: \(sent) sent, \(replies) replies, \(refused) refused by the kernel")
        XCTAssertGreaterThan(sent, 0)
        domain.close()
        assertKernelHealthy(seed: seed)
        assertResourcesBackToBaseline(seed: seed)
    }

    /// Finding: a message longer than its binding's buffer arrived cut short (a
    /// SOCK_SEQPACKET read truncates silently), and when its declared length matched
    /// the cut the relay forwarded what the client never sent. It is refused whole.
    func testAMessageLongerThanItsBindingIsRefusedNotCutShort() throws {
        guard let domain = RawOperator(socketPath: kernel.socketPath) else { return XCTFail("no welcome") }
        defer { domain.close() }
        domain.send(ControlMessage.importInterface(request: 2, name: BenchInterface.name, transport: .message, waitMilliseconds: 2000).encoded())
        XCTAssertTrue(domain.waitForReply(timeout: 10) { if case .imported = $0 { true } else { false } }, "no bench binding")
        guard let (bo, geometry, socket) = domain.imported.first else { return XCTFail("no binding") }
        let capacity = geometry.payloadCapacity
        var frame = [UInt8](repeating: 0, count: CallMessage.requestHeader + capacity + 1)
        frame.withUnsafeMutableBytes {
            CallMessage.Request(binding: bo, procedure: BenchInterface.null.id, argumentLength: UInt32(capacity), cpu: 0).write(to: $0)
        }
        XCTAssertEqual(frame.withUnsafeBytes { send(socket.rawValue, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }, frame.count)
        var p = pollfd(fd: socket.rawValue, events: Int16(POLLIN), revents: 0)
        XCTAssertEqual(poll(&p, 1, 5_000), 1, "no reply")
        var reply = [UInt8](repeating: 0, count: CallMessage.replyHeader + capacity)
        XCTAssertGreaterThanOrEqual(reply.withUnsafeMutableBytes { recv(socket.rawValue, $0.baseAddress, $0.count, 0) }, CallMessage.replyHeader)
        XCTAssertEqual(reply.withUnsafeBytes { CallMessage.Reply(reading: $0).status }, CallMessage.refusedStatus + Refusal.malformedTrap.rawValue,
                       "a message one byte over its binding's size was forwarded cut short")
        XCTAssertEqual(try bench.call(BenchInterface.add, AddArguments(2, 3)), 5)
    }

    /// Finding: an empty message read as the client hanging up (recv returns 0 for
    /// both), so the relay quietly ended a binding the kernel still listed as live. It
    /// is refused like any malformed message, and the binding keeps working.
    func testAnEmptyMessageIsRefusedAndTheBindingLivesOn() throws {
        guard let domain = RawOperator(socketPath: kernel.socketPath) else { return XCTFail("no welcome") }
        defer { domain.close() }
        domain.send(ControlMessage.importInterface(request: 2, name: BenchInterface.name, transport: .message, waitMilliseconds: 2000).encoded())
        XCTAssertTrue(domain.waitForReply(timeout: 10) { if case .imported = $0 { true } else { false } }, "no bench binding")
        guard let (bo, geometry, socket) = domain.imported.first else { return XCTFail("no binding") }
        var reply = [UInt8](repeating: 0, count: CallMessage.replyHeader + geometry.payloadCapacity)
        func exchange(_ frame: [UInt8]) -> UInt32? {
            guard frame.withUnsafeBytes({ send(socket.rawValue, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == frame.count else { return nil }
            var p = pollfd(fd: socket.rawValue, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 5_000) == 1,
                  reply.withUnsafeMutableBytes({ recv(socket.rawValue, $0.baseAddress, $0.count, 0) }) >= CallMessage.replyHeader else { return nil }
            return reply.withUnsafeBytes { CallMessage.Reply(reading: $0).status }
        }
        XCTAssertEqual(exchange([]), CallMessage.refusedStatus + Refusal.malformedTrap.rawValue, "an empty message got no refusal")
        var null = [UInt8](repeating: 0, count: CallMessage.requestHeader)
        null.withUnsafeMutableBytes {
            CallMessage.Request(binding: bo, procedure: BenchInterface.null.id, argumentLength: 0, cpu: 0).write(to: $0)
        }
        XCTAssertEqual(exchange(null), 0, "the binding did not survive its client's empty message")
        XCTAssertEqual(try bench.call(BenchInterface.add, AddArguments(2, 3)), 5)
    }
}
