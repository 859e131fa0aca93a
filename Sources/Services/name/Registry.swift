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
// Liveness. The kernel tells the registry (the image's `registry = true` service) when a
// domain ends, service or operator session (ControlMessage.domainEnded, with the
// domain's kernel-given name). A domain never comes back, so its names go at once and
// cannot stay reserved or fill the registry for others; only a service the kernel is
// restarting (a new domain under the same name) finds its names kept for it, unlisted
// and not found by lookup until it registers them again, so nobody takes them while it
// backs off. A register call already under way when its domain ended could land after
// the notice: the last `endedMemory` ended domains are remembered and refused (domain
// ids are never reused; the window is only the calls in flight). When the name service
// itself restarts, it starts empty and the kernel asks every running service to
// register again.
import Interfaces
import LRPC

final class Registry: @unchecked Sendable {
    struct Entry {
        var domain: UInt32
        var owner: String
        /// Its domain ended and its service is restarting: kept for the owner only.
        var waitingForOwner = false
    }

    private let monitor = Monitor()
    private var entries: [String: Entry] = [:]
    /// Domains the kernel said ended, newest last; bounded.
    private var ended: [UInt32] = []
    static let endedMemory = 64

    func register(_ name: String, domain: UInt32, owner: String) throws {
        if let problem = NameInterface.problem(with: name) { throw ProcedureFailure("cannot register: \(problem)") }
        try monitor.locked { () throws -> Void in
            guard !ended.contains(domain) else {
                throw ProcedureFailure("cannot register '\(name)': domain \(domain) has ended")
            }
            if let existing = entries[name] {
                guard existing.owner == owner else {
                    let whose = existing.waitingForOwner ? "\(existing.owner), which is restarting" : "\(existing.owner) (domain \(existing.domain))"
                    throw ProcedureFailure("cannot register '\(name)': it belongs to \(whose)")
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

    /// The kernel says `domain` (named `owner`) ended: its names go, or wait for the
    /// owner's next domain if it is `returning`. A service that stays down loses every
    /// name it still had waiting from an earlier run too.
    func domainEnded(_ domain: UInt32, owner: String, returning: Bool) {
        monitor.locked {
            if returning {
                for (name, entry) in entries where entry.domain == domain { entries[name]?.waitingForOwner = true }
            } else {
                // Its own names, and any an earlier run of the same service left waiting.
                // Only by domain otherwise: two operator sessions may share a name, and
                // one ending must not take the other's names.
                entries = entries.filter { $0.value.domain != domain && !($0.value.owner == owner && $0.value.waitingForOwner) }
            }
            ended.append(domain)
            if ended.count > Self.endedMemory { ended.removeFirst(ended.count - Self.endedMemory) }
        }
    }

    func lookup(_ name: String) -> Registration {
        monitor.locked {
            guard let entry = entries[name], !entry.waitingForOwner else { return Registration(found: false, domain: 0) }
            return Registration(found: true, domain: entry.domain)
        }
    }

    func list() -> NameList { monitor.locked { NameList(entries.filter { !$0.value.waitingForOwner }.keys.sorted()) } }
}
