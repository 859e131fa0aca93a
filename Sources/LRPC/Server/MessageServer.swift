// The server side of a message binding: one receiver thread reads each call message,
// unmarshals the arguments, dispatches, and sends the reply message back through the
// kernel. This is the conventional design LRPC replaces; it shares the handlers.
import CNanoKernel
import Glibc
import SystemPackage

extension Service {
    func acceptMessages(binding: UInt32, clientName: String, socket: FileDescriptor, payloadCapacity: Int) throws {
        try OSThread.spawn(name: "nk-msg-\(binding)") { [self] in
            serveMessages(binding: binding, clientName: clientName, socket: socket, payloadCapacity: payloadCapacity)
            try? socket.close()
        }
    }

    private func serveMessages(binding: UInt32, clientName: String, socket: FileDescriptor, payloadCapacity: Int) {
        var request = [UInt8](repeating: 0, count: CallMessage.upcallHeader + payloadCapacity)
        var reply = [UInt8](repeating: 0, count: CallMessage.replyHeader + payloadCapacity)
        var tuning = Tuning.Local(role: .server)
        while true {
            Tuning.shared.refresh(&tuning)
            let n = request.withUnsafeMutableBytes { recv(socket.rawValue, $0.baseAddress, $0.count, 0) }
            guard n >= CallMessage.upcallHeader else { return }  // the kernel closed the binding
            tuning.follow(request.withUnsafeBytes { CallMessage.Upcall(reading: $0).cpu })
            let length = request.withUnsafeBytes { raw in
                reply.withUnsafeMutableBytes { out in answer(raw, received: n, into: out, binding: binding, clientName: clientName) }
            }
            let sent = reply.withUnsafeBytes { Glibc.send(socket.rawValue, $0.baseAddress, length, Int32(MSG_NOSIGNAL)) }
            guard sent == length else { return }
        }
    }

    /// Unmarshal, run, marshal the reply; returns the reply's length.
    private func answer(_ raw: UnsafeRawBufferPointer, received: Int, into out: UnsafeMutableRawBufferPointer,
                        binding: UInt32, clientName: String) -> Int {
        // While the kernel traces the call, stamp the server's steps into the reply header.
        let traced = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: CallMessage.upcallTraced, as: UInt32.self)) != 0
        let woke = traced ? monotonicNanoseconds() : 0
        let upcall = CallMessage.Upcall(reading: raw)
        let procedure = upcall.procedure, caller = upcall.callerDomain
        let length = min(Int(upcall.argumentLength), received - CallMessage.upcallHeader)
        let arguments = UnsafeRawBufferPointer(rebasing: raw[CallMessage.upcallHeader..<(CallMessage.upcallHeader + length)])
        let results = UnsafeMutableRawBufferPointer(rebasing: out[CallMessage.replyHeader...])
        let context = CallContext(callerDomain: caller, procedureID: procedure, binding: binding, callerName: clientName)
        let started = traced ? monotonicNanoseconds() : 0
        let (status, resultLength) = handlers[procedure].map { $0(arguments, results, context) } ?? (.notImplemented, 0)
        CallMessage.Reply(status: status.rawValue, resultLength: UInt32(resultLength)).write(to: out)
        if traced {
            let ended = monotonicNanoseconds()
            out.storeBytes(of: woke.littleEndian, toByteOffset: CallMessage.replyServerWoke, as: UInt64.self)
            out.storeBytes(of: started.littleEndian, toByteOffset: CallMessage.replyProcedureStarted, as: UInt64.self)
            out.storeBytes(of: ended.littleEndian, toByteOffset: CallMessage.replyProcedureEnded, as: UInt64.self)
            out.storeBytes(of: ended.littleEndian, toByteOffset: CallMessage.replyServerReturned, as: UInt64.self)
        }
        return CallMessage.replyHeader + resultLength
    }
}
