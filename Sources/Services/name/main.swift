// nk-name: the name service, the clerk's registry of exported interfaces (Registry.swift:
// the rules for names, their bounds and who owns each).
import Interfaces
import LRPC

let registry = Registry()
let service = Service(interface: NameInterface.name)
service.handle(NameInterface.register) { args, context in
    // Who registers comes from the kernel (call record and binding), never the A-stack.
    try registry.register(args.name, domain: context.callerDomain, owner: context.callerName)
    return Empty()
}
service.handle(NameInterface.lookup) { args, _ in registry.lookup(args.name) }
service.handle(NameInterface.list) { _, _ in registry.list() }
ServiceMain.run(service, registersWithNameService: false, beforeExport: { runtime in
    try registry.register(NameInterface.name, domain: runtime.domainID, owner: runtime.domainName)
})
