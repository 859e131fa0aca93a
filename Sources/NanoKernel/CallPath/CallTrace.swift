// CallTrace: every binding step and every call step, for `nkctl trace`. Off by default;
// while off, the call path pays one relaxed load per trap here (and one per call in the
// client stub, for the trap page's `tracing` word). While on, each trap and each binding
// step becomes an entry in a bounded ring (under a lock: the path is then slower, the
// price of looking).
//
// Times are CLOCK_MONOTONIC nanoseconds, one clock for every process on the machine.
// The kernel stamps its own steps. The client's steps come from the report ring in its
// trap page, and the server's from its call record (or reply message): those are the
// domains' word, not the kernel's, and every step says who reported it.
import CNanoKernel
import LRPC
import NanoAdmin
import Synchronization

final class CallTrace: @unchecked Sendable {
    private let enabled = SharedWord.allocate()
    private let state = Mutex(State())
    static let capacity = 2000
    /// Entries older than this stop waiting for reports that may never come.
    static let patience: UInt64 = 1_000_000_000

    struct PendingServer {
        let entry: UInt64
        let sequence: UInt32
        let records: CallRecords
        let slot: Int
    }

    struct State {
        var entries: [TraceEntry] = []
        var created: [UInt64] = []
        var nextID: UInt64 = 1
        /// (domain id << 32 | trace key) → entry id: a call awaiting its client's report.
        var callsByKey: [UInt64: UInt64] = [:]
        /// (binding index << 32 | slot) → the traced call awaiting its server's stamps.
        var serverStamps: [UInt64: PendingServer] = [:]
        /// (client id << 32 | request) and (index << 32 | generation) → binding entry.
        var bindingsByRequest: [UInt64: UInt64] = [:]
        var bindingsByObject: [UInt64: UInt64] = [:]
        /// Per domain: reports read from its ring so far.
        var reportsRead: [UInt32: UInt32] = [:]
        /// Client reports read before the kernel recorded their call (the client can
        /// finish first): (domain id << 32 | key) → steps, the newest few kept.
        var early: [(UInt64, [TraceStep])] = []
        /// The operator domain that turned the trace on: it goes off when that domain leaves.
        var owner: UInt32?

        func index(of id: UInt64) -> Int? {
            guard let first = entries.first?.id, id >= first else { return nil }
            let i = Int(id - first)
            return i < entries.count ? i : nil
        }
    }

    init() {}

    deinit { enabled.deallocate() }

    @inline(__always) var isOn: Bool { enabled.loadRelaxed() != 0 }

    var owner: UInt32? { state.withLock { $0.owner } }

    /// Turn on (a fresh trace, owned by `owner`) or off; every domain's trap page learns it.
    func turn(on: Bool, owner: UInt32?, pages: [TrapPage]) {
        state.withLock { s in
            if on {
                let next = s.nextID
                s = State()
                s.nextID = next
                s.owner = owner
            } else {
                s.owner = nil
            }
        }
        enabled.storeRelaxed(on ? 1 : 0)
        for page in pages { page.tracing.storeRelaxed(on ? 1 : 0) }
    }

    // MARK: recording

    /// A new entry; returns its id.
    @discardableResult
    func begin(_ kind: String, client: String, server: String = "", interface: String, procedure: String = "",
               transport: String = "", binding: UInt32? = nil, generation: UInt32? = nil, slot: UInt32? = nil,
               outcome: String, steps: [TraceStep], missing: [String] = []) -> UInt64 {
        state.withLock { s in
            let id = s.nextID
            s.nextID += 1
            if s.entries.count >= Self.capacity {
                s.entries.removeFirst(Self.capacity / 4)
                s.created.removeFirst(Self.capacity / 4)
                Self.forgetEvicted(&s)
            }
            s.entries.append(TraceEntry(id: id, kind: kind, client: client, server: server, interface: interface,
                                        procedure: procedure, transport: transport, binding: binding, generation: generation,
                                        slot: slot, outcome: outcome, steps: steps, complete: missing.isEmpty, missing: missing))
            s.created.append(monotonicNanoseconds())
            return id
        }
    }

    /// Reports that never came (a client that died, or never reports) must not make the
    /// indexes grow: whatever points before the ring's first entry goes.
    private static func forgetEvicted(_ s: inout State) {
        guard let first = s.entries.first?.id else { return }
        s.callsByKey = s.callsByKey.filter { $0.value >= first }
        s.serverStamps = s.serverStamps.filter { $0.value.entry >= first }
        s.bindingsByRequest = s.bindingsByRequest.filter { $0.value >= first }
        s.bindingsByObject = s.bindingsByObject.filter { $0.value >= first }
    }

    /// Add steps to an entry (and optionally change its outcome or what it still waits for).
    func add(_ id: UInt64, _ steps: [TraceStep], outcome: String? = nil, arrived: String? = nil) {
        state.withLock { s in Self.add(&s, id, steps, outcome: outcome, arrived: arrived) }
    }

    private static func add(_ s: inout State, _ id: UInt64, _ steps: [TraceStep], outcome: String? = nil, arrived: String? = nil) {
        guard let i = s.index(of: id) else { return }
        s.entries[i].steps.append(contentsOf: steps)
        if let outcome { s.entries[i].outcome = outcome }
        if let arrived {
            s.entries[i].missing.removeAll { $0 == arrived }
            s.entries[i].complete = s.entries[i].missing.isEmpty
        }
    }

    // MARK: calls

    /// A traced call: remember it under the client's trace key, and for an upcalled LRPC
    /// call under its slot, so the domains' reports can join it.
    func call(domain: UInt32, key: UInt32, entry: TraceEntry, server: PendingServer?) -> UInt64 {
        let id = begin(entry.kind, client: entry.client, server: entry.server, interface: entry.interface,
                       procedure: entry.procedure, transport: entry.transport, binding: entry.binding,
                       generation: entry.generation, slot: entry.slot, outcome: entry.outcome, steps: entry.steps,
                       missing: entry.missing)
        state.withLock { s in
            let joined = UInt64(domain) << 32 | UInt64(key)
            if key != 0, let i = s.early.firstIndex(where: { $0.0 == joined }) {
                Self.addClientSteps(&s, id, s.early.remove(at: i).1)
            } else if key != 0 {
                s.callsByKey[joined] = id
            }
            if let server, let binding = entry.binding {
                s.serverStamps[UInt64(binding) << 32 | UInt64(server.slot)] = PendingServer(
                    entry: id, sequence: server.sequence, records: server.records, slot: server.slot)
            }
        }
        return id
    }

    /// The server stamps of the last traced call on a slot, if the server has finished it.
    func collectServerStamps(binding: UInt32, slot: Int) {
        state.withLock { s in Self.collectServer(&s, UInt64(binding) << 32 | UInt64(slot)) }
    }

    /// A binding was revoked: the server stamps its traced calls still wait for will not
    /// be read, and the call records they would come from go with the binding (a pending
    /// entry holds them: kept, it would keep the records' memfd open in the kernel).
    func bindingRevoked(_ index: UInt32) {
        state.withLock { s in s.serverStamps = s.serverStamps.filter { $0.key >> 32 != UInt64(index) } }
    }

    private static func collectServer(_ s: inout State, _ key: UInt64) {
        guard let p = s.serverStamps[key] else { return }
        let record = p.records.record(p.slot)
        guard record.done.loadAcquire() == p.sequence else { return }
        s.serverStamps[key] = nil
        let woke = record.time(.serverWoke).loadRelaxed()
        let started = record.time(.procedureStarted).loadRelaxed()
        let ended = record.time(.procedureEnded).loadRelaxed()
        add(&s, p.entry, serverSteps(woke: woke, started: started, ended: ended, transport: .lrpc), arrived: "server report")
    }

    /// What a server reports, as steps (LRPC: from its call record; messages: its reply header).
    static func serverSteps(woke: UInt64, started: UInt64, ended: UInt64, transport: Transport) -> [TraceStep] {
        let lrpc = transport == .lrpc
        return [
            TraceStep(at: woke, seed: "kernel 6 / server 1", actor: "server",
                      what: lrpc ? "slot thread woke (its stack is the E-stack)" : "receiver thread got the message", reportedBy: "server"),
            TraceStep(at: started, seed: "server 1", actor: "server",
                      what: lrpc ? "stub copies the arguments off the A-stack" : "stub unmarshals the arguments", reportedBy: "server"),
            TraceStep(at: ended, seed: "server 2", actor: "server",
                      what: String(format: "procedure ran (%.1f µs); results %@", Double(ended &- started) / 1000,
                                   lrpc ? "on the A-stack, done written, client woken (no return trap)" : "in the reply message"),
                      reportedBy: "server"),
        ]
    }

    /// Read the client reports a domain left in its trap page since the last read.
    func collectClientReports(domain: UInt32, page: TrapPage) {
        let written = page.reportsWritten.loadAcquire()
        state.withLock { s in
            var read = s.reportsRead[domain] ?? 0
            if written &- read > UInt32(TrapPage.reportCount) { read = written &- UInt32(TrapPage.reportCount) }
            while read != written {
                let report = page.report(read)
                read &+= 1
                let key = report.key.loadAcquire()
                guard key != 0 else { continue }
                let joined = UInt64(domain) << 32 | UInt64(key)
                guard let id = s.callsByKey.removeValue(forKey: joined) else {
                    if s.early.count >= Self.earlyReports { s.early.removeFirst() }
                    s.early.append((joined, Self.clientSteps(report)))
                    continue
                }
                Self.addClientSteps(&s, id, Self.clientSteps(report))
            }
            s.reportsRead[domain] = read
        }
    }

    /// A domain is leaving: read what it reported last, then drop its cursor (domain ids
    /// are never reused). Every domain leaves through here, traced or not, so a cursor
    /// kept after would grow the table by one per operator session.
    func domainLeft(_ domain: UInt32, page: TrapPage) {
        collectClientReports(domain: domain, page: page)
        state.withLock { _ = $0.reportsRead.removeValue(forKey: domain) }
    }

    /// Domains whose report cursor the trace keeps (tests).
    var domainCursors: Int { state.withLock { $0.reportsRead.count } }

    /// Client reports kept while their call is not yet recorded.
    static let earlyReports = 64

    private static func addClientSteps(_ s: inout State, _ id: UInt64, _ reported: [TraceStep]) {
        guard let i = s.index(of: id) else { return }
        var steps = reported
        if s.entries[i].transport == Transport.message.rawValue { steps = messageClientWording(steps) }
        if s.entries[i].outcome.hasPrefix("refused") { steps = refusedClientWording(steps) }
        add(&s, id, steps, arrived: "client report")
    }

    private static func clientSteps(_ r: CallReport) -> [TraceStep] {
        let t = { (f: CallReportField) in r.time(f).loadRelaxed() }
        var steps = [
            TraceStep(at: t(.started), seed: "client 1", actor: "client", what: "stub dequeued an A-stack", reportedBy: "client"),
            TraceStep(at: t(.argumentsCopied), seed: "client 2", actor: "client", what: "arguments copied onto it", reportedBy: "client"),
            TraceStep(at: t(.posted), seed: "client 3-4", actor: "client",
                      what: "trap registers written to a trap cell, doorbell rung", reportedBy: "client"),
            TraceStep(at: t(.woke), seed: "server 3", actor: "client", what: "client thread woke with the return", reportedBy: "client"),
            TraceStep(at: t(.resultsCopied), seed: "", actor: "client", what: "results copied off the A-stack", reportedBy: "client"),
        ]
        // A report that is not in time order is shown, but said to be so.
        if zip(steps, steps.dropFirst()).contains(where: { $0.at > $1.at }) {
            steps = steps.map { TraceStep(at: $0.at, seed: $0.seed, actor: $0.actor, what: $0.what + " (report out of order)",
                                          reportedBy: $0.reportedBy) }
        }
        return steps
    }

    /// A refused call's client wakes with the refusal, and has no results to copy.
    static func refusedClientWording(_ steps: [TraceStep]) -> [TraceStep] {
        Array(steps.prefix(3)) + steps.dropFirst(3).prefix(1).map {
            TraceStep(at: $0.at, seed: "", actor: $0.actor, what: "client thread woke with the refusal", reportedBy: $0.reportedBy)
        }
    }

    /// A message call's client report names other steps than an LRPC call's.
    static func messageClientWording(_ steps: [TraceStep]) -> [TraceStep] {
        let words = ["stub began the call", "arguments marshalled into a message",
                     "message sent to the kernel", "client thread got the reply", "results unmarshalled"]
        return zip(steps, words).map { TraceStep(at: $0.at, seed: $0.seed, actor: $0.actor, what: $1, reportedBy: $0.reportedBy) }
    }

    // MARK: bindings

    func bindingRequested(client: KernelDomain, request: UInt32, interface: String, transport: Transport, steps: [TraceStep],
                          outcome: String) {
        let id = begin("binding", client: client.name, interface: interface, transport: transport.rawValue,
                       outcome: outcome, steps: steps)
        state.withLock { $0.bindingsByRequest[UInt64(client.id) << 32 | UInt64(request)] = id }
    }

    /// The kernel issued a binding object for a request: later steps find the entry by it.
    func bindingIssued(client: UInt32, request: UInt32, bo: BindingObject, server: String, steps: [TraceStep]) {
        state.withLock { s in
            guard let id = s.bindingsByRequest.removeValue(forKey: UInt64(client) << 32 | UInt64(request)),
                  let i = s.index(of: id) else { return }
            s.bindingsByObject[UInt64(bo.index) << 32 | UInt64(bo.generation)] = id
            s.entries[i].binding = bo.index
            s.entries[i].generation = bo.generation
            s.entries[i].server = server
            s.entries[i].steps.append(contentsOf: steps)
        }
    }

    func bindingStep(_ bo: BindingObject, _ steps: [TraceStep], outcome: String? = nil) {
        state.withLock { s in
            guard let id = s.bindingsByObject[UInt64(bo.index) << 32 | UInt64(bo.generation)] else { return }
            Self.add(&s, id, steps, outcome: outcome)
        }
    }

    // MARK: reading

    /// Entries from `id` on (at most `limit`), after collecting what the domains reported.
    func entries(from id: UInt64, limit: Int, collect: () -> [(UInt32, TrapPage)]) -> TraceReply {
        for (domain, page) in collect() { collectClientReports(domain: domain, page: page) }
        return state.withLock { s in
            for key in Array(s.serverStamps.keys) { Self.collectServer(&s, key) }
            let now = monotonicNanoseconds()
            let start = s.index(of: id) ?? (id < (s.entries.first?.id ?? 0) ? 0 : s.entries.count)
            var out: [TraceEntry] = []
            for i in start..<s.entries.count {
                guard out.count < limit else { break }
                var e = s.entries[i]
                if !e.complete && now &- s.created[i] > Self.patience { e.complete = true }
                out.append(e)
            }
            let next = out.last.map { $0.id + 1 } ?? max(id, s.entries.first?.id ?? id)
            return TraceReply(on: isOn, entries: out, next: next)
        }
    }
}

extension TraceStep {
    static func kernel(_ seed: String, _ what: String, at: UInt64 = monotonicNanoseconds()) -> TraceStep {
        TraceStep(at: at, seed: seed, actor: "kernel", what: what, reportedBy: "kernel")
    }
}
