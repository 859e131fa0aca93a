// Registry: interface name → the domain that registered it, and who owns the entry.
//
// Every name is hostile input: bounded in length and characters (NameInterface.problem),
// and in number, in all and per registrant, so that `list` always fits its reply and one
// domain cannot fill the registry for everyone.
//
// Ownership. An entry belongs to the registrant's name as the kernel gave it with the
// binding (CallContext.callerName: the service's name in the boot image, or
// "<tool>-<pid>" for an operator client), which no domain can forge. The owner may
// register the name again (a restarted service does, under its new domain id); nobody
// else may take it.
//
// Liveness. The registry cannot see domains die, so an entry is taken to be live for as
// long as this name service runs: a domain that dies and is restarted registers again
// under its new id; one that stays down keeps its name reserved (its clients' calls fail
// with serverDied) until the name service itself restarts, when the kernel asks every
// running service to register again and the names of dead domains are forgotten.
import Interfaces
import LRPC

final class Registry: @unchecked Sendable {
    struct Entry {
        var domain: UInt32
        var owner: String
    }

    private let monitor = Monitor()
    private var entries: [String: Entry] = [:]

    func register(_ name: String, domain: UInt32, owner: String) throws {
        if let problem = NameInterface.problem(with: name) { throw ProcedureFailure("cannot register: \(problem)") }
        try monitor.locked { () throws -> Void in
            if let existing = entries[name] {
                guard existing.owner == owner else {
                    throw ProcedureFailure("cannot register '\(name)': it belongs to \(existing.owner) (domain \(existing.domain))")
                }
                entries[name] = Entry(domain: domain, owner: owner)
                return
            }
            guard entries.count < NameInterface.maximumEntries else {
                throw ProcedureFailure("cannot register '\(name)': the registry is full (\(NameInterface.maximumEntries) names)")
            }
            let owned = entries.values.count { $0.owner == owner }
            guard owned < NameInterface.maximumEntriesPerRegistrant else {
                throw ProcedureFailure("cannot register '\(name)': \(owner) already holds \(owned) names (at most \(NameInterface.maximumEntriesPerRegistrant))")
            }
            entries[name] = Entry(domain: domain, owner: owner)
        }
    }

    func lookup(_ name: String) -> Registration {
        monitor.locked { entries[name].map { Registration(found: true, domain: $0.domain) } ?? Registration(found: false, domain: 0) }
    }

    func list() -> NameList { monitor.locked { NameList(entries.keys.sorted()) } }
}
