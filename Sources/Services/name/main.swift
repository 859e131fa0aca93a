// nk-name: the name service, the clerk's registry of exported interfaces (Registry.swift:
// the rules for names, their bounds and who owns each).
import Interfaces
import LRPC

/// The name interface, served from the registry. Who registers comes from the kernel
/// (call record and binding), never the A-stack.
struct NameServer: Name {
    let registry: Registry
    func register(_ name: InterfaceName, context: CallContext) throws {
        try registry.register(name.name.text, domain: context.callerDomain, owner: context.callerName)
    }
    func lookup(_ name: InterfaceName) -> Registration { registry.lookup(name.name.text) }
    func list() -> NameList { registry.list() }
}

let registry = Registry()
ServiceMain.run(NameInterface.service(NameServer(registry: registry)), registersWithNameService: false, beforeExport: { runtime in
    try registry.register(NameInterface.name, domain: runtime.domainID, owner: runtime.domainName)
    runtime.onDomainEnded = { registry.domainEnded($0, owner: $1, returning: $2) }
})
