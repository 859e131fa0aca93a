// MessageRelay: the kernel's half of a message binding (conventional RPC). One thread
// per binding receives the client's call message, validates it exactly as a call trap
// is validated, copies it on to the server, and relays the reply back. Every argument
// byte passes through this process twice; that is the cost LRPC removes.
import CNanoKernel
import Glibc
import LRPC
import Synchronization
import SystemPackage

final class MessageRelay: @unchecked Sendable {
    let clientEnd: FileDescriptor
    let serverEnd: FileDescriptor
    private let validator: CallValidator
    private let log: KernelLog
    private let trace: CallTrace
    private unowned let binding: KernelBinding

    init(binding: KernelBinding, clientEnd: FileDescriptor, serverEnd: FileDescriptor, validator: CallValidator, log: KernelLog,
         trace: CallTrace) {
        self.binding = binding
        self.trace = trace
        self.clientEnd = clientEnd
        self.serverEnd = serverEnd
        self.validator = validator
        self.log = log
    }

    /// The relay thread closes both ends when it stops; `stop` may come later (the client
    /// can close its end before the kernel handles its release) and must then not touch
    /// the numbers, which may already name someone else's descriptor.
    private let ends = Mutex(true)

    func start() throws {
        // The thread holds its binding while it runs: the binding may be revoked and
        // dropped (its client cut off) before the thread has even started, or while it
        // validates a message; the binding's reference to this relay is not enough.
        try OSThread.spawn(name: "nk-relay-\(binding.bindingObject.index)") { [self, binding] in
            withExtendedLifetime(binding) { relay() }
            ends.withLock { open in
                open = false
                try? clientEnd.close()
                try? serverEnd.close()
            }
        }
    }

    /// Cut both sides: the relay thread, the server's receiver and the client's stub all
    /// see the sockets close.
    func stop() {
        ends.withLock { open in
            guard open else { return }
            _ = shutdown(clientEnd.rawValue, Int32(SHUT_RDWR))
            _ = shutdown(serverEnd.rawValue, Int32(SHUT_RDWR))
        }
    }

    private func relay() {
        let capacity = binding.geometry.payloadCapacity
        var request = [UInt8](repeating: 0, count: CallMessage.requestHeader + capacity)
        // Only the kernel's header: the body goes on to the server from where it arrived.
        var upcall = [UInt8](repeating: 0, count: CallMessage.upcallHeader)
        var reply = [UInt8](repeating: 0, count: CallMessage.replyHeader + capacity)
        var tuning = Tuning.Local(role: .kernel)
        while true {
            Tuning.shared.refresh(&tuning)
            // MSG_TRUNC: the message's whole length, even past the buffer, so one longer
            // than the binding allows is refused rather than forwarded cut short.
            let n = request.withUnsafeMutableBytes { recv(clientEnd.rawValue, $0.baseAddress, $0.count, Int32(MSG_TRUNC)) }
            // recv's 0 is the client's hang-up, or an empty message (refused like any malformed one).
            guard n > 0 || (n == 0 && !ControlChannel.peerHungUp(clientEnd)) else { return }
            var timeline = trace.isOn ? RelayTimeline(request, received: n, binding: binding) : nil
            if n >= CallMessage.requestHeader {
                tuning.follow(request.withUnsafeBytes { CallMessage.Request(reading: $0, received: n).cpu })
            }
            let forwarded = request.withUnsafeBytes { raw in
                upcall.withUnsafeMutableBytes { out in validateAndHead(raw, received: n, into: out) }
            }
            defer { timeline?.record(in: trace) }
            switch forwarded {
            case .refused(let refusal):
                timeline?.refused(refusal)
                guard sendReply(&reply, status: CallMessage.refusedStatus + refusal.rawValue, length: 0) else { return }
            case .forward(let length):
                upcall.withUnsafeMutableBytes {
                    $0.storeBytes(of: UInt32(timeline == nil ? 0 : 1).littleEndian, toByteOffset: CallMessage.upcallTraced, as: UInt32.self)
                }
                timeline?.validated()
                guard sendUpcall(header: upcall, body: request, bodyLength: length) else {
                    _ = sendReply(&reply, status: CallMessage.serverDiedStatus, length: 0)
                    return
                }
                timeline?.forwarded()
                let r = reply.withUnsafeMutableBytes { recv(serverEnd.rawValue, $0.baseAddress, $0.count, 0) }
                guard r >= CallMessage.replyHeader else {
                    _ = sendReply(&reply, status: CallMessage.serverDiedStatus, length: 0)
                    return
                }
                timeline?.replied(reply)
                guard reply.withUnsafeBytes({ send(clientEnd.rawValue, $0.baseAddress, r, Int32(MSG_NOSIGNAL)) }) == r else { return }
                timeline?.relayed()
            }
        }
    }

    private enum Verdict {
        case refused(Refusal)
        case forward(Int)
    }

    /// Validate the message like a trap; then write the upcall's header, with the caller
    /// named by the kernel. The verdict carries the body's length.
    private func validateAndHead(_ raw: UnsafeRawBufferPointer, received: Int, into out: UnsafeMutableRawBufferPointer) -> Verdict {
        let header = CallMessage.Request(reading: raw, received: received, missing: .max)
        let length = received >= CallMessage.requestHeader ? Int(header.argumentLength) : -1
        let trap = Trap(cell: -1, cellSequence: 0, procedure: header.procedure, bindingIndex: header.bindingIndex,
                        bindingGeneration: header.bindingGeneration == .max ? 0 : header.bindingGeneration,
                        bindingSecret: header.bindingSecret, slot: 0, cpu: header.cpu == .max ? 0 : header.cpu)
        guard length >= 0, received <= raw.count, CallMessage.requestHeader + length == received else {
            validator.record(.malformedTrap, of: trap, log: log)
            return .refused(.malformedTrap)
        }
        if case .failure(let refusal) = validator.validate(trap, relayedOn: binding, accept: { _ in }) {
            validator.record(refusal, of: trap, log: log)
            return .refused(refusal)
        }
        CallMessage.Upcall(procedure: trap.procedure, callerDomain: validator.domain.id, argumentLength: UInt32(length), cpu: trap.cpu)
            .write(to: out)
        binding.callsAccepted.storeRelaxed(binding.callsAccepted.loadRelaxed() &+ 1)
        return .forward(length)
    }

    /// The kernel's header and the request's body as one message (one sendmsg gathering
    /// both): the body is not copied behind the header first.
    private func sendUpcall(header: [UInt8], body request: [UInt8], bodyLength: Int) -> Bool {
        header.withUnsafeBytes { head in
            request.withUnsafeBytes { raw in
                withUnsafeTemporaryAllocation(of: iovec.self, capacity: 2) { parts in
                    parts[0] = iovec(iov_base: UnsafeMutableRawPointer(mutating: head.baseAddress), iov_len: head.count)
                    parts[1] = iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + CallMessage.requestHeader),
                                     iov_len: bodyLength)
                    var message = msghdr()
                    message.msg_iov = parts.baseAddress
                    message.msg_iovlen = bodyLength > 0 ? 2 : 1
                    return sendmsg(serverEnd.rawValue, &message, Int32(MSG_NOSIGNAL)) == head.count + bodyLength
                }
            }
        }
    }

    private func sendReply(_ reply: inout [UInt8], status: UInt32, length: Int) -> Bool {
        reply.withUnsafeMutableBytes { raw in
            CallMessage.Reply(status: status, resultLength: UInt32(length)).write(to: raw)
            return send(clientEnd.rawValue, raw.baseAddress, CallMessage.replyHeader + length, Int32(MSG_NOSIGNAL)) == CallMessage.replyHeader + length
        }
    }
}
