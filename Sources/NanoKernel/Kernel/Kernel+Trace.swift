// The operator's `trace` request:
//   trace on        start a fresh trace, owned by the asking operator (it stops when that
//                   operator disconnects, so an interrupted nkctl never leaves it on)
//   trace off       stop it
//   trace from=N    the entries from id N on (a page at a time)
// Each answer first collects what the domains reported in their trap pages.
import LRPC
import NanoAdmin

extension Kernel {
    /// Entries per answer: a call's entry is about 3 KB of JSON, and an answer must stay
    /// well inside a control message's 64 KB string.
    static let tracePage = 12

    func answerTrace(_ argument: String, from domain: KernelDomain) -> TraceReply? {
        var from: UInt64 = 0
        switch argument {
        case "on": trace.turn(on: true, owner: domain.id, pages: tracedPages.map(\.1))
        case "off": trace.turn(on: false, owner: nil, pages: tracedPages.map(\.1))
        case "": break
        default:
            guard argument.hasPrefix("from="), let n = UInt64(argument.dropFirst(5)) else { return nil }
            from = n
        }
        return trace.entries(from: from, limit: Self.tracePage) { tracedPages }
    }

    /// Every welcomed domain's trap page.
    private var tracedPages: [(UInt32, TrapPage)] {
        domains.all.compactMap { d in d.welcomed ? d.trapPage.map { (d.id, $0) } : nil }
    }

    /// A domain is going: collect its last call reports, and if it owned the trace, stop it.
    func traceDomainLeaving(_ domain: KernelDomain) {
        if let page = domain.trapPage { trace.domainLeft(domain.id, page: page) }
        if trace.isOn, trace.owner == domain.id { trace.turn(on: false, owner: nil, pages: tracedPages.map(\.1)) }
    }
}
