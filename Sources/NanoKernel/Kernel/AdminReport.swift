// What the operator sees: `nkctl status`, `nkctl bindings`, `nkctl shutdown`. Replies
// are JSON on the control plane (never the call path); nkctl renders tables from them.
// A binding object's secret is never part of a report.
import Foundation
import LRPC

public struct DomainReport: Codable, Sendable, Equatable {
    public let id: UInt32
    public let name: String
    public let kind: String
    public let pid: Int32
    public let state: String
    public let callsServed: UInt64
    public let refusals: UInt64
    public let restarts: Int
    public let exports: [String]
    public let lastEvent: String
    public let sandbox: [String: String]
}

public struct BindingReport: Codable, Sendable, Equatable {
    public let binding: UInt32
    public let client: String
    public let server: String
    public let interface: String
    public let transport: String
    public let astacks: Int
    public let astackBytes: Int
    public let astacksInUse: Int
    public let calls: UInt64
}

public struct StatusReport: Codable, Sendable, Equatable {
    public let image: String
    public let uptimeSeconds: Double
    public let domains: [DomainReport]
}

extension Kernel {
    func answerAdmin(_ command: String, argument: String, request: UInt32, to domain: KernelDomain) {
        switch command {
        case "status":
            send(.adminReply(request: request, body: encode(statusReport())), to: domain)
        case "bindings":
            send(.adminReply(request: request, body: encode(bindingReports())), to: domain)
        case "log":
            send(.adminReply(request: request, body: encode(log.recentLines)), to: domain)
        case "trace":
            // "on" starts a fresh trace, "off" stops it; either way the entries so far come back.
            if argument == "on" || argument == "off" { trace.turn(on: argument == "on") }
            send(.adminReply(request: request, body: encode(trace.entries)), to: domain)
        case "tune" where argument.isEmpty:
            send(.adminReply(request: request, body: encode(["placement": Tuning.shared.placement.rawValue,
                                                              "spin": String(Tuning.shared.spin.spinIterations)])), to: domain)
        case "tune":
            guard let (placement, spin) = Tuning.parse(argument) else {
                send(.failed(request: request, message: "tune takes placement=\(Placement.allCases.map(\.rawValue).joined(separator: "|")),spin=N; got '\(argument)'"), to: domain)
                return
            }
            tune(placement: placement, spin: spin)
            send(.adminReply(request: request, body: encode(["placement": placement.rawValue, "spin": String(spin)])), to: domain)
        case "shutdown":
            send(.adminReply(request: request, body: "\"shutting down\""), to: domain)
            requestShutdown()
        default:
            send(.failed(request: request, message: "unknown operator request '\(command)'; requests: status, bindings, log, trace, tune, shutdown"), to: domain)
        }
    }

    /// Apply a placement and spin to the kernel's trap handlers and to every domain.
    func tune(placement: Placement, spin: Int) {
        Tuning.shared.apply(placement: placement, spin: spin)
        let policy = Tuning.describe(placement, spin)
        for domain in domains.values where domain.isAlive { send(.tune(policy: policy), to: domain) }
        log.info("kernel: tuned \(policy)")
    }

    func statusReport() -> StatusReport {
        let rows = domains.values.sorted { $0.id < $1.id }.map { d in
            DomainReport(id: d.id, name: d.name, kind: d.kind == .service ? "service" : "operator", pid: d.pid,
                         state: d.state.rawValue, callsServed: callsServed(by: d),
                         refusals: d.refusals.pointee, restarts: d.restarts,
                         exports: d.exports.map(\.name), lastEvent: d.lastEvent, sandbox: d.sandboxSummary)
        }
        return StatusReport(image: image.name, uptimeSeconds: Double(monotonicNanoseconds() - bootStarted) / 1e9,
                            domains: rows)
    }

    func bindingReports() -> [BindingReport] {
        liveBindings.values.sorted { $0.bindingObject.index < $1.bindingObject.index }.map { b in
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
