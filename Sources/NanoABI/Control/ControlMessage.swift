// The messages that travel on a domain's control channel. File descriptors (trap page,
// A-stacks, call records) ride along as SCM_RIGHTS; which ones is fixed per message.
public enum ControlMessage: Sendable, Equatable {
    // A domain to the kernel.
    case hello(domainName: String)
    case export(InterfaceDescriptor)
    /// `transport` nil: the image's choice for this interface. The kernel holds the
    /// import at most `waitMilliseconds` while the interface's server is down.
    case importInterface(request: UInt32, name: String, transport: Transport?, waitMilliseconds: UInt32)
    case ready
    case bindAccepted(binding: UInt32)
    case bindRefused(binding: UInt32, reason: String)
    case admin(request: UInt32, command: String, argument: String)
    /// The client no longer needs a binding: the kernel revokes it. The whole binding
    /// object, so a stale release can never revoke the binding that reused its index.
    case release(binding: BindingObject)

    // The kernel to a domain.
    /// fds: [trap page]
    case welcome(domainID: UInt32, domainName: String)
    case exported(interface: String)
    /// fds: lrpc [A-stack region]; message [the client's socket to the kernel]
    /// `callDeadlineMilliseconds`: the image's default deadline for calls on this binding.
    case imported(request: UInt32, binding: BindingObject, geometry: AStackGeometry, interface: InterfaceDescriptor,
                  transport: Transport, callDeadlineMilliseconds: UInt32)
    /// The kernel asks a server (its clerk) to accept a binding.
    /// fds: lrpc [A-stack region, call records]; message [the server's socket to the kernel]
    case bind(binding: UInt32, client: UInt32, clientName: String, interface: String, geometry: AStackGeometry,
              transport: Transport)
    case unbind(binding: UInt32)
    case failed(request: UInt32, message: String)
    case adminReply(request: UInt32, body: String)
    /// New placement and spin for every waiting thread ("placement=...,spin=...").
    case tune(policy: String)
    /// The name service restarted with an empty registry: register your interfaces again.
    case registerAgain
    /// To a client: the kernel revoked this binding (its server died, or was stopped).
    case revoked(binding: BindingObject, reason: String)
    /// To a service: the operator asked it to stop; exit cleanly (SIGKILL follows a grace period).
    case stop
    /// To the registry (the image's `registry = true` service): this domain (kernel-given
    /// id and name) ended. `returning`: its service restarts (as a new domain, under the
    /// same name), so its names wait for it; otherwise they go.
    case domainEnded(domainID: UInt32, name: String, returning: Bool)

    /// Its name, for messages to people ("importInterface", "admin"): never its fields.
    public var kind: String { "\(tag)" }

    /// How many descriptors must accompany this message.
    public var descriptorCount: Int {
        switch self {
        case .welcome: 1
        case .imported: 1
        case .bind(_, _, _, _, _, let transport): transport == .lrpc ? 2 : 1
        default: 0
        }
    }

    /// This message's entry in the tag table.
    public var tag: ControlTag {
        switch self {
        case .hello: .hello
        case .export: .export
        case .importInterface: .importInterface
        case .ready: .ready
        case .bindAccepted: .bindAccepted
        case .bindRefused: .bindRefused
        case .admin: .admin
        case .release: .release
        case .welcome: .welcome
        case .exported: .exported
        case .imported: .imported
        case .bind: .bind
        case .unbind: .unbind
        case .failed: .failed
        case .adminReply: .adminReply
        case .tune: .tune
        case .registerAgain: .registerAgain
        case .revoked: .revoked
        case .stop: .stop
        case .domainEnded: .domainEnded
        }
    }

    public func encoded() -> [UInt8] {
        var e = ControlEncoder()
        e.u8(tag.rawValue)
        switch self {
        case .hello(let name): e.string(name)
        case .export(let iface): e.interface(iface)
        case .importInterface(let request, let name, let transport, let wait):
            e.u32(request); e.string(name); e.string(transport?.rawValue ?? ""); e.u32(wait)
        case .ready: break
        case .bindAccepted(let b): e.u32(b)
        case .bindRefused(let b, let reason): e.u32(b); e.string(reason)
        case .admin(let request, let command, let argument): e.u32(request); e.string(command); e.string(argument)
        case .welcome(let id, let name): e.u32(id); e.string(name)
        case .exported(let name): e.string(name)
        case .imported(let request, let bo, let geometry, let iface, let transport, let deadline):
            e.u32(request); e.bindingObject(bo)
            e.geometry(geometry); e.interface(iface); e.string(transport.rawValue); e.u32(deadline)
        case .bind(let b, let client, let clientName, let iface, let geometry, let transport):
            e.u32(b); e.u32(client); e.string(clientName); e.string(iface); e.geometry(geometry); e.string(transport.rawValue)
        case .unbind(let b): e.u32(b)
        case .failed(let request, let message): e.u32(request); e.string(message)
        case .adminReply(let request, let body): e.u32(request); e.string(body)
        case .tune(let policy): e.string(policy)
        case .release(let bo): e.bindingObject(bo)
        case .registerAgain, .stop: break
        case .revoked(let bo, let reason): e.bindingObject(bo); e.string(reason)
        case .domainEnded(let id, let name, let returning): e.u32(id); e.string(name); e.u8(returning ? 1 : 0)
        }
        return e.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(ControlError) -> ControlMessage {
        var d = ControlDecoder(bytes)
        let message: ControlMessage
        let raw = try d.u8()
        guard let tag = ControlTag(rawValue: raw) else { throw ControlError("unknown control message tag \(raw)") }
        switch tag {
        case .hello: message = .hello(domainName: try d.string())
        case .export: message = .export(try d.interface())
        case .importInterface:
            let request = try d.u32(), name = try d.string(), transport = try d.string()
            message = .importInterface(request: request, name: name,
                                       transport: transport.isEmpty ? nil : try d.transport(transport), waitMilliseconds: try d.u32())
        case .ready: message = .ready
        case .bindAccepted: message = .bindAccepted(binding: try d.u32())
        case .bindRefused: message = .bindRefused(binding: try d.u32(), reason: try d.string())
        case .admin: message = .admin(request: try d.u32(), command: try d.string(), argument: try d.string())
        case .release: message = .release(binding: try d.bindingObject())
        case .welcome: message = .welcome(domainID: try d.u32(), domainName: try d.string())
        case .exported: message = .exported(interface: try d.string())
        case .imported:
            let request = try d.u32()
            let bo = try d.bindingObject()
            message = .imported(request: request, binding: bo, geometry: try d.geometry(), interface: try d.interface(),
                                transport: try d.transport(try d.string()), callDeadlineMilliseconds: try d.u32())
        case .bind:
            message = .bind(binding: try d.u32(), client: try d.u32(), clientName: try d.string(),
                            interface: try d.string(), geometry: try d.geometry(), transport: try d.transport(try d.string()))
        case .unbind: message = .unbind(binding: try d.u32())
        case .failed: message = .failed(request: try d.u32(), message: try d.string())
        case .adminReply: message = .adminReply(request: try d.u32(), body: try d.string())
        case .tune: message = .tune(policy: try d.string())
        case .registerAgain: message = .registerAgain
        case .revoked: message = .revoked(binding: try d.bindingObject(), reason: try d.string())
        case .stop: message = .stop
        case .domainEnded:
            message = .domainEnded(domainID: try d.u32(), name: try d.string(), returning: try d.u8() != 0)
        }
        try d.finish()
        return message
    }
}

/// The tag table: every control message's number on the wire, in one place. Tags below
/// 100 travel from a domain to the kernel; 100 and up from the kernel to a domain.
public enum ControlTag: UInt8, Sendable, CaseIterable {
    case hello = 1
    case export = 2
    case importInterface = 3
    case ready = 4
    case bindAccepted = 5
    case bindRefused = 6
    case admin = 7
    case release = 8
    case welcome = 101
    case exported = 102
    case imported = 103
    case bind = 104
    case unbind = 105
    case failed = 106
    case adminReply = 107
    case tune = 108
    case registerAgain = 109
    case revoked = 110
    case stop = 111
    case domainEnded = 112

    /// May a domain send this to the kernel?
    public var travelsToKernel: Bool { rawValue < 100 }
}
