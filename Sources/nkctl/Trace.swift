// nkctl trace: watch every binding step and every call step as it happens. It turns the
// kernel's trace on (the kernel turns it off again if this command goes away), collects
// for a while (or follows until Ctrl-C), and prints each binding and each call as one
// block: one line per step, with the seed's step number, the time since the first step
// and since the previous one, and who reported the step. Calls are numbered by the
// kernel, uniquely for its life.
import ArgumentParser
import Foundation
import Glibc
import LRPC
import NanoAdmin

nonisolated(unsafe) private var interrupted: sig_atomic_t = 0

struct Trace: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every binding step and call step the kernel sees, timed, with the seed's step numbers.",
        discussion: """
            Example: nkctl trace --follow (then make calls from another shell; Ctrl-C stops).
            Times are CLOCK_MONOTONIC, one clock for every process. Steps marked * are the
            client's or server's own report (their word, not the kernel's); the rest the
            kernel measured itself.
            """)
    @OptionGroup var kernel: KernelOptions
    @Option(help: "Stop after this many seconds (without --follow).") var seconds = 5.0
    @Option(help: "Stop after this many calls (without --follow).") var calls = 50
    @Flag(help: "Keep printing until Ctrl-C.") var follow = false
    @Option(help: "Only bindings and calls with this client or server domain (nkctl matches every nkctl-PID).") var domain: String?
    @Option(help: "Only bindings and calls on this interface.") var interface: String?
    @Flag(help: "One JSON object per line, per binding or call.") var json = false

    func run() throws {
        let runtime = try kernel.connect()
        _ = try fetch(runtime, "on")
        signal(SIGINT) { _ in interrupted = 1 }
        signal(SIGTERM) { _ in interrupted = 1 }
        var next: UInt64 = 0
        var shown = 0
        let deadline = Date().addingTimeInterval(seconds)
        while interrupted == 0 && (follow || (Date() < deadline && shown < calls)) {
            usleep(100_000)
            shown += try printReady(runtime, from: &next, flushAll: false)
        }
        // Let the last calls' reports arrive, print what is left, then turn the trace off.
        usleep(150_000)
        shown += try printReady(runtime, from: &next, flushAll: true)
        _ = try fetch(runtime, "off")
        if shown == 0 && !json { print("no bindings or calls traced" + (follow ? "" : " in \(seconds) s")) }
    }

    /// Print the entries from `next` on that are complete (or all of them); returns the calls printed.
    private func printReady(_ runtime: DomainRuntime, from next: inout UInt64, flushAll: Bool) throws -> Int {
        var printed = 0
        while true {
            let reply = try fetch(runtime, "from=\(next)")
            guard !reply.entries.isEmpty else { return printed }
            for entry in reply.entries {
                guard entry.complete || flushAll else { return printed }
                next = entry.id + 1
                guard matches(entry) else { continue }
                if entry.kind == "call" { printed += 1 }
                if !follow && entry.kind == "call" && printed > calls { continue }
                print(json ? Self.json(entry) : TraceBlock(entry).text)
                fflush(nil)
            }
        }
    }

    private func matches(_ entry: TraceEntry) -> Bool {
        if let interface, entry.interface != interface { return false }
        if let domain {
            let named = { (name: String) in name == domain || name.hasPrefix(domain + "-") }
            return named(entry.client) || named(entry.server)
        }
        return true
    }

    private func fetch(_ runtime: DomainRuntime, _ argument: String) throws -> TraceReply {
        let body = try runtime.admin("trace", argument: argument)
        return try JSONDecoder().decode(TraceReply.self, from: Data(body.utf8))
    }

    private static func json(_ entry: TraceEntry) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return TerminalText.json((try? String(decoding: encoder.encode(entry), as: UTF8.self)) ?? "{}")
    }
}

/// One binding or call as a block a student can read without the code.
struct TraceBlock {
    let entry: TraceEntry
    init(_ entry: TraceEntry) { self.entry = entry }

    var text: String {
        // Names in the header come from domains: one line, nothing a terminal obeys.
        var lines = [TerminalText.line(header)]
        let steps = entry.steps.sorted { $0.at < $1.at }
        guard let first = steps.first?.at else { return lines[0] }
        var rows = [["SEED STEP", "AT µs", "+µs", "WHO", "WHAT"]]
        var previous = first
        for step in steps {
            rows.append([step.seed.isEmpty ? "-" : step.seed, Self.micro(step.at &- first), Self.micro(step.at &- previous),
                         step.actor + (step.reportedBy == "kernel" ? "" : "*"), step.what])
            previous = step.at
        }
        lines.append(contentsOf: tableLines(rows).map { "  " + $0 })
        var notes: [String] = []
        if steps.contains(where: { $0.reportedBy != "kernel" }) { notes.append("* reported by the domain itself (untrusted)") }
        if !entry.missing.isEmpty { notes.append("no " + entry.missing.joined(separator: " or ") + " arrived") }
        notes.append(String(format: "t0 = %.6f s CLOCK_MONOTONIC", Double(first) / 1e9))
        lines.append("  (" + notes.joined(separator: "; ") + ")")
        return lines.joined(separator: "\n") + "\n"
    }

    private var header: String {
        switch entry.kind {
        case "export":
            return "export #\(entry.id): \(entry.server) exports \(entry.interface)"
        case "binding":
            let object = entry.binding.map { "binding \($0) (generation \(entry.generation ?? 0))" } ?? "binding"
            return "\(object) #\(entry.id): \(entry.client) imports \(entry.interface)"
                + (entry.server.isEmpty ? "" : " from \(entry.server)") + ", \(entry.transport): \(entry.outcome)"
        default:
            let place = entry.transport == "lrpc" ? ", slot \(entry.slot ?? 0)" : ""
            let clerk = entry.interface == "name" && entry.procedure == "register"
                ? "  [binding step 2: the clerk's registry records an interface]" : ""
            let target = entry.interface.isEmpty
                ? "procedure \(entry.procedure) of an unknown interface (the binding object did not check out)"
                : "\(entry.interface).\(entry.procedure)"
            return "call #\(entry.id): \(entry.client) → \(target)"
                + (entry.server.isEmpty ? "" : " in \(entry.server)")
                + " (\(entry.transport), binding \(entry.binding.map(String.init) ?? "?") generation \(entry.generation ?? 0)\(place)): "
                + entry.outcome + clerk
        }
    }

    private static func micro(_ ns: UInt64) -> String { String(format: "%.1f", Double(ns) / 1000) }
}
