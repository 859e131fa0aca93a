// RelayTimeline: the kernel relay's own steps of one message call, stamped while a trace
// is on, with the server's stamps from its reply header (the server's word).
import LRPC
import NanoAdmin

struct RelayTimeline {
    private var steps: [TraceStep]
    private let key: UInt32
    private let procedure: UInt32
    private var refusal: Refusal?
    private var serverReported = false

    /// What the entry says about the binding, copied when the message arrives: the relay
    /// may outlive the binding once the reply is on its way.
    private let client: String, clientID: UInt32, server: String, interface: String, procedureName: String
    private let index: UInt32, generation: UInt32

    init(_ request: [UInt8], received: Int, binding: KernelBinding) {
        client = binding.client.name
        clientID = binding.client.id
        server = binding.server.name
        interface = binding.interface.name
        index = binding.bindingObject.index
        generation = binding.bindingObject.generation
        steps = [.kernel("", "relay thread received the message (copy into the kernel)")]
        key = received >= CallMessage.requestHeader
            ? request.withUnsafeBytes { UInt32(littleEndian: $0.load(fromByteOffset: CallMessage.requestTraceKey, as: UInt32.self)) } : 0
        let procedure = received >= 20 ? request.withUnsafeBytes { UInt32(littleEndian: $0.load(fromByteOffset: 16, as: UInt32.self)) } : .max
        self.procedure = procedure
        procedureName = binding.interface.procedure(id: procedure)?.name ?? "#\(procedure)"
    }

    mutating func validated() {
        steps.append(.kernel("kernel 1", "binding object and procedure checked (no A-stack to check: messages)"))
        steps.append(.kernel("", "kernel's header written (caller named by the kernel); the body stays where it arrived"))
    }

    mutating func forwarded() {
        steps.append(.kernel("kernel 9", "header and body sent on to the server's receiver thread in one sendmsg (copy out of the kernel)"))
    }

    mutating func replied(_ reply: [UInt8]) {
        steps.append(.kernel("", "reply received from the server (return through the kernel)"))
        let t = { (offset: Int) in reply.withUnsafeBytes { UInt64(littleEndian: $0.load(fromByteOffset: offset, as: UInt64.self)) } }
        let woke = t(CallMessage.replyServerWoke), started = t(CallMessage.replyProcedureStarted)
        let ended = t(CallMessage.replyProcedureEnded)
        if woke != 0 {
            steps.append(contentsOf: CallTrace.serverSteps(woke: woke, started: started, ended: ended, transport: .message))
            serverReported = true
        }
    }

    mutating func relayed() {
        steps.append(.kernel("server 3", "reply sent on to the client"))
    }

    mutating func refused(_ refusal: Refusal) {
        self.refusal = refusal
        steps.append(.kernel("kernel 1", "check FAILED: \(refusal); refusal sent back, the server never sees it"))
    }

    func record(in trace: CallTrace) {
        let entry = TraceEntry(
            id: 0, kind: "call", client: client, server: server, interface: interface,
            procedure: procedureName, transport: Transport.message.rawValue,
            binding: index, generation: generation, slot: nil,
            outcome: refusal.map { "refused: \($0)" } ?? (serverReported ? "relayed" : "relayed (no server report)"),
            steps: steps, complete: false, missing: key == 0 ? [] : ["client report"])
        _ = trace.call(domain: clientID, key: key, entry: entry, server: nil)
    }
}
