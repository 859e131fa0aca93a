// nkctl trace: watch the kernel validate and upcall calls as they happen. It turns the
// kernel's call trace on, collects for a while (or until N calls), turns it off, and
// prints one line per trap: who trapped, on which binding and slot, and what the kernel
// did (validated and upcalled, or refused and why).
import ArgumentParser
import Foundation
import Glibc
import LRPC
import NanoAdmin
import NanoKernel

struct Trace: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show each call trap the kernel handles: validation and upcall, or refusal.",
        discussion: "Example: nkctl trace --seconds 5 (then make calls from another shell)")
    @OptionGroup var kernel: KernelOptions
    @Option(help: "Stop after this many seconds.") var seconds = 5.0
    @Option(help: "Stop after this many traps.") var calls = 50
    @Flag(help: "Machine-readable output.") var json = false

    func run() throws {
        let runtime = try kernel.connect()
        _ = try runtime.admin("trace", argument: "on")
        let deadline = Date().addingTimeInterval(seconds)
        var entries: [TraceEntry] = []
        while Date() < deadline {
            usleep(100_000)
            entries = try decode(runtime.admin("trace"))
            if entries.count >= calls { break }
        }
        entries = try decode(runtime.admin("trace", argument: "off"))
        let shown = Array(entries.prefix(calls))
        if json {
            print(TerminalText.json(String(decoding: try JSONEncoder().encode(shown), as: UTF8.self)))
            return
        }
        let start = shown.first?.nanoseconds ?? 0
        var rows = [["+µs", "DOMAIN", "BINDING", "CALL", "SLOT", "CELL", "KERNEL"]]
        for e in shown {
            rows.append([String(format: "%.1f", Double(e.nanoseconds - start) / 1000), e.domain, String(e.binding),
                         "\(e.interface).\(e.procedure)", String(e.slot), String(e.cell), e.verdict])
        }
        printTable(rows)
        if shown.isEmpty { print("no call traps in \(seconds) s") }
    }

    private func decode(_ body: String) throws -> [TraceEntry] {
        try JSONDecoder().decode([TraceEntry].self, from: Data(body.utf8))
    }
}
