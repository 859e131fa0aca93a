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
            domain.send(.adminReply(request: request, body: encode(statusReport())), log: log)
        case "bindings":
            domain.send(.adminReply(request: request, body: encode(bindingReports())), log: log)
        case "log":
            domain.send(.adminReply(request: request, body: encode(log.recentLines)), log: log)
        case "trace":
            // "on" starts a fresh trace, "off" stops it; either way the entries so far come back.
            if argument == "on" || argument == "off" { trace.turn(on: argument == "on") }
            domain.send(.adminReply(request: request, body: encode(trace.entries)), log: log)
        case "tune" where argument.isEmpty:
            domain.send(.adminReply(request: request, body: encode(["placement": Tuning.shared.placement.rawValue,
                                                              "spin": String(Tuning.shared.spin.spinIterations)])), log: log)
        case "tune":
            guard let (placement, spin) = Tuning.parse(argument) else {
                domain.send(.failed(request: request, message: "tune takes placement=\(Placement.allCases.map(\.rawValue).joined(separator: "|")),spin=N; got '\(argument)'"), log: log)
                return
            }
            tune(placement: placement, spin: spin)
            domain.send(.adminReply(request: request, body: encode(["placement": placement.rawValue, "spin": String(spin)])), log: log)
        case "shutdown":
            domain.send(.adminReply(request: request, body: "\"shutting down\""), log: log)
            requestShutdown()
        default:
            domain.send(.failed(request: request, message: "unknown operator request '\(command)'; requests: status, bindings, log, trace, tune, shutdown"), log: log)
        }
    }

    /// Apply a placement and spin to the kernel's trap handlers and to every domain.
    func tune(placement: Placement, spin: Int) {
        Tuning.shared.apply(placement: placement, spin: spin)
        let policy = Tuning.describe(placement, spin)
        for domain in domains.all where domain.isAlive { domain.send(.tune(policy: policy), log: log) }
        log.info("kernel: tuned \(policy)")
    }

    func statusReport() -> StatusReport {
        let rows = domains.all.sorted { $0.id < $1.id }.map { d in
            DomainReport(id: d.id, name: d.name, kind: d.kind == .service ? "service" : "operator", pid: d.pid,
                         state: d.state.rawValue, callsServed: bindings.callsServed(by: d),
                         refusals: d.refusals.loadRelaxed(), restarts: d.restarts,
                         exports: d.exports.map(\.name), lastEvent: d.lastEvent, sandbox: d.sandboxSummary)
        }
        return StatusReport(image: image.name, uptimeSeconds: Double(monotonicNanoseconds() - bootStarted) / 1e9,
                            domains: rows)
    }

    func bindingReports() -> [BindingReport] {
        bindings.live.values.sorted { $0.bindingObject.index < $1.bindingObject.index }.map { b in
            BindingReport(binding: b.bindingObject.index, client: b.client.name, server: b.server.name,
                          interface: b.interface.name, transport: b.transport.rawValue, astacks: b.geometry.slotCount,
                          astackBytes: b.geometry.payloadCapacity, astacksInUse: b.slotsInUse, calls: b.calls)
        }
    }

    private func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "null"
    }
}
