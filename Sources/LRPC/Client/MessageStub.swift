// MessageStub: the client stub of a conventional-RPC binding, kept beside LRPC so the
// two can be measured against each other. The stub marshals the call into a message;
// the message travels to the kernel (which validates it) and on to the server over Unix
// sockets, and the reply comes back the same way. One message is outstanding per
// binding, as on a conventional RPC port.
import CNanoKernel
import Glibc
import SystemPackage

final class MessageStub: @unchecked Sendable {
    let socket: FileDescriptor
    private let lock = Monitor()
    private var buffer: [UInt8]
    /// Replies still owed for calls that timed out. Replies come back in order, so the
    /// next call first reads (and drops) these: a late reply is never taken for its own.
    private var lateReplies = 0

    init(socket: FileDescriptor, payloadCapacity: Int) {
        self.socket = socket
        buffer = [UInt8](repeating: 0, count: max(CallMessage.requestHeader, CallMessage.replyHeader) + payloadCapacity)
    }

    deinit { try? socket.close() }

    func call<R>(_ bo: BindingObject, procedureID: UInt32, limit: Int, deadline: CallDeadline, stamps: inout CallStamps?,
                 write: (inout AStackWriter) throws(CallError) -> Void,
                 read: (inout AStackReader) throws(CallError) -> R) throws(CallError) -> R {
        var local = stamps
        let result: Result<R, CallError> = lock.locked {
            buffer.withUnsafeMutableBytes { raw in
                Result { () throws(CallError) -> R in
                    let length = try marshal(raw, bo, procedureID, limit: limit, write: write)
                    raw.storeBytes(of: (local?.key ?? 0).littleEndian, toByteOffset: CallMessage.requestTraceKey, as: UInt32.self)
                    if local != nil {
                        local!.argumentsCopied = monotonicNanoseconds()
                        local!.posted = local!.argumentsCopied
                    }
                    defer { if local != nil { local!.woke = monotonicNanoseconds() } }
                    try exchange(raw, length: length, deadline: deadline)
                    return try unmarshal(raw, read: read)
                }
            }
        }
        if local != nil { local!.resultsCopied = monotonicNanoseconds() }
        stamps = local
        return try result.get()
    }

    /// Copy 1: the arguments into the message, behind the header.
    private func marshal(_ raw: UnsafeMutableRawBufferPointer, _ bo: BindingObject, _ procedureID: UInt32, limit: Int,
                         write: (inout AStackWriter) throws(CallError) -> Void) throws(CallError) -> Int {
        let body = UnsafeMutableRawBufferPointer(rebasing: raw[CallMessage.requestHeader..<(CallMessage.requestHeader + limit)])
        var writer = AStackWriter(body)
        try write(&writer)
        let cpu = Tuning.shared.followsClient ? UInt32(bitPattern: nk_current_cpu()) : 0
        CallMessage.Request(binding: bo, procedure: procedureID, argumentLength: UInt32(writer.offset), cpu: cpu)
            .write(to: raw)
        return CallMessage.requestHeader + writer.offset
    }

    private func exchange(_ raw: UnsafeMutableRawBufferPointer, length: Int, deadline: CallDeadline) throws(CallError) {
        // The server still works on an earlier, timed-out call: wait for it within this deadline.
        var scratch = [UInt8](repeating: 0, count: CallMessage.replyHeader)
        while lateReplies > 0 {
            try awaitReply(deadline, "the server has not answered an earlier call that timed out")
            guard recv(socket.rawValue, &scratch, scratch.count, Int32(MSG_TRUNC)) >= CallMessage.replyHeader else {
                throw .serverDied("the binding was revoked")
            }
            lateReplies -= 1
        }
        guard Glibc.send(socket.rawValue, raw.baseAddress, length, Int32(MSG_NOSIGNAL)) == length else {
            throw .serverDied("the binding was revoked")
        }
        do {
            try awaitReply(deadline, "no reply message within \(deadline.describe())")
        } catch {
            lateReplies += 1
            throw error
        }
        let n = recv(socket.rawValue, raw.baseAddress, raw.count, 0)
        guard n >= CallMessage.replyHeader else { throw .serverDied("the binding was revoked") }
    }

    private func awaitReply(_ deadline: CallDeadline, _ message: String) throws(CallError) {
        var p = pollfd(fd: socket.rawValue, events: Int16(POLLIN), revents: 0)
        while true {
            let remaining = deadline.remainingNanoseconds
            let ms = Int32(min((remaining + 999_999) / 1_000_000, 1_000_000))
            let ready = poll(&p, 1, ms)
            if ready == 1 { return }
            if ready < 0 && errno == EINTR { continue }
            throw .timedOut(message)
        }
    }

    /// The reply's results, read straight out of the received message.
    private func unmarshal<R>(_ raw: UnsafeMutableRawBufferPointer, read: (inout AStackReader) throws(CallError) -> R) throws(CallError) -> R {
        let reply = CallMessage.Reply(reading: UnsafeRawBufferPointer(raw))
        let status = reply.status
        let length = min(Int(reply.resultLength), raw.count - CallMessage.replyHeader)
        let body = UnsafeRawBufferPointer(rebasing: raw[CallMessage.replyHeader..<(CallMessage.replyHeader + length)])
        switch status {
        case ReplyStatus.ok.rawValue:
            var reader = AStackReader(body)
            return try read(&reader)
        case ReplyStatus.procedureFailed.rawValue: throw CallError.failure(UnsafeRawBufferPointer(body))
        case ReplyStatus.badArguments.rawValue: throw .malformed(String(decoding: body, as: UTF8.self))
        case CallMessage.serverDiedStatus: throw .serverDied("the server went away before replying")
        case CallMessage.refusedStatus...(CallMessage.refusedStatus + 0xff):
            throw .refused(Refusal(rawValue: status - CallMessage.refusedStatus) ?? .malformedTrap)
        default: throw .notImplemented("procedure")
        }
    }
}
