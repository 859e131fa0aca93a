// nk-name: the name service, the clerk's registry of exported interfaces.
import Interfaces
import LRPC

/// Interface name → the domain that registered it (the kernel's call record says who
/// called, so a registration cannot claim another domain's id). The last one wins, so
/// a restarted server registers again under its new id.
final class Registry: @unchecked Sendable {
    private let monitor = Monitor()
    private var owners: [String: UInt32] = [:]

    func register(_ name: String, by domain: UInt32) throws {
        guard !name.isEmpty else { throw ProcedureFailure("interface name is empty") }
        monitor.locked { owners[name] = domain }
    }

    func lookup(_ name: String) -> Registration {
        monitor.locked { owners[name].map { Registration(found: true, domain: $0) } ?? Registration(found: false, domain: 0) }
    }

    func list() -> NameList { monitor.locked { NameList(owners.keys.sorted()) } }
}

let registry = Registry()
let service = Service(interface: NameInterface.name)
service.handle(NameInterface.register) { args, context in
    try registry.register(args.name, by: context.callerDomain)
    return Empty()
}
service.handle(NameInterface.lookup) { args, _ in registry.lookup(args.name) }
service.handle(NameInterface.list) { _, _ in registry.list() }
ServiceMain.run(service, registersWithNameService: false) { runtime in
    try registry.register(NameInterface.name, by: runtime.domainID)
}
