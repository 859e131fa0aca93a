// The operator's requests (`nkctl status`, `bindings`, `log`, `trace`, `tune`,
// `shutdown`), answered on the control plane, never the call path. The report types
// live in NanoAdmin, shared with nkctl. A binding object's secret is never reported.
import Foundation
import LRPC
import NanoAdmin

extension Kernel {
    func answerAdmin(_ command: String, argument: String, request: UInt32, to domain: KernelDomain) {
        switch command {
        case "status":
            reply(request, encode(statusReport()), to: domain)
        case "bindings":
            // A page at a time: rows from binding index `from=N` on (argument), at most
            // BindingReport.pageSize of them, so the reply always fits the channel.
            let from = argument.hasPrefix("from=") ? UInt32(argument.dropFirst(5)) ?? 0 : 0
            reply(request, encode(Array(bindingReports().filter { $0.binding >= from }.prefix(BindingReport.pageSize))), to: domain)
        case "log":
            reply(request, newestThatFit(log.recentLines), to: domain)
        case "trace":
            guard let answer = answerTrace(argument, from: domain) else {
                domain.send(.failed(request: request, message: "trace takes on, off or from=N; got '\(DomainText.safe(argument))'"), log: log)
                return
            }
            reply(request, encode(answer), to: domain)
        case "tune" where argument.isEmpty:
            reply(request, encode(["placement": Tuning.shared.placement.rawValue,
                                                              "spin": String(Tuning.shared.spin.spinIterations)]), to: domain)
        case "tune":
            guard let (placement, spin) = Tuning.parse(argument) else {
                domain.send(.failed(request: request, message: "tune takes placement=\(Placement.allCases.map(\.rawValue).joined(separator: "|")),spin=N (N in 0...\(Tuning.maximumSpin)); got '\(DomainText.safe(argument))'"), log: log)
                return
            }
            tune(placement: placement, spin: spin, by: domain)
            reply(request, encode(["placement": placement.rawValue, "spin": String(spin)]), to: domain)
        case "kill", "stop", "start", "restart":
            switch controlService(command, argument: argument) {
            case .success(let text): reply(request, encode(["result": text]), to: domain)
            case .failure(let error): domain.send(.failed(request: request, message: error.message), log: log)
            }
        case "shutdown":
            reply(request, "\"shutting down\"", to: domain)
            requestShutdown()
        default:
            domain.send(.failed(request: request, message: "unknown operator request '\(DomainText.safe(command))'; requests: status, bindings, log, trace, tune, kill, stop, start, restart, shutdown"), log: log)
        }
    }

    /// No reply outgrows the channel: one that would is refused with the reason, never
    /// left to fail in the socket.
    private func reply(_ request: UInt32, _ body: String, to domain: KernelDomain) {
        let limit = ControlChannel.maximumMessage - 4096
        guard body.utf8.count <= limit else {
            domain.send(.failed(request: request, message: "the reply is \(body.utf8.count) bytes, more than the control channel carries (\(limit))"), log: log)
            return
        }
        domain.send(.adminReply(request: request, body: body), log: log)
    }

    /// The newest entries (log lines, trace entries) whose encoding fits in a reply.
    private func newestThatFit<T: Encodable>(_ entries: [T]) -> String {
        var kept = entries[...]
        var body = encode(Array(kept))
        while body.utf8.count > ControlChannel.maximumMessage / 2, !kept.isEmpty {
            kept = kept.dropFirst(max(1, kept.count / 4))
            body = encode(Array(kept))
        }
        return body
    }

    /// Apply a placement and spin to the kernel's trap handlers and to every domain.
    func tune(placement: Placement, spin: Int, by requester: KernelDomain) {
        Tuning.shared.apply(placement: placement, spin: spin)
        let policy = Tuning.describe(placement, spin)
        // Only to domains that have their welcome: a domain's first message must be the welcome.
        for domain in domains.all where domain.isAlive && domain.welcomed { domain.send(.tune(policy: policy), log: log) }
        requester.note("kernel: tuned \(policy) (asked by \(requester.name))", log: log)
    }

    func statusReport() -> StatusReport {
        let now = monotonicNanoseconds()
        let rows = domains.all.sorted { $0.id < $1.id }.map { d in
            var row = DomainReport(id: d.id, name: d.name, kind: d.kind == .service ? "service" : "operator", pid: d.pid,
                                   state: d.state.rawValue, callsServed: bindings.callsServed(by: d),
                                   refusals: d.refusals.loadRelaxed(), restarts: d.restarts,
                                   exports: d.exports.map(\.name), lastEvent: d.lastEvent, sandbox: d.sandboxSummary)
            row.restartsInWindow = d.entry.flatMap { domains.supervisors[$0.name]?.restartsInWindow(at: now) } ?? 0
            row.lastExit = d.lastExit
            row.uptimeSeconds = d.pidfd != nil ? Double(now - d.startedAt) / 1e9 : 0
            row.restartInSeconds = d.restartAt.map { $0 > now ? Double($0 - now) / 1e9 : 0 }
            return row
        }
        return StatusReport(image: image.name, uptimeSeconds: Double(monotonicNanoseconds() - bootStarted) / 1e9,
                            domains: rows)
    }

    func bindingReports() -> [BindingReport] {
        bindings.live.values.sorted { $0.bindingObject.index < $1.bindingObject.index }.map { b in
            BindingReport(binding: b.bindingObject.index, client: b.client.name, server: b.server.name,
                          interface: b.interface.name, transport: b.transport.rawValue,
                          astacks: b.transport == .lrpc ? b.geometry.slotCount : 0,
                          astackBytes: b.transport == .lrpc ? b.geometry.payloadCapacity : 0, astacksInUse: b.slotsInUse, calls: b.calls)
        }
    }

    private func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "null"
    }
}
