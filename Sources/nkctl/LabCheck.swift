// nkctl lab-check N: the checker of lab N (docs/labs/). It drives a running kernel the way
// the lab asks the student to, and says, line by line, what it saw that the lab expects
// ("ok") and what is missing ("MISSING"). scripts/lab-check boots the lab's image first.
import ArgumentParser
import Foundation
import Glibc
import Interfaces
import LRPC
import NanoAdmin

struct LabCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab-check",
        abstract: "Check a lab (docs/labs/) against a running kernel: what is right, what is missing.",
        discussion: "Usually run as scripts/lab-check N, which boots the lab's image on a private socket.")
    @OptionGroup var kernel: KernelOptions
    @Argument(help: "The lab: 1 to 5.") var lab: Int

    func validate() throws {
        guard (1...5).contains(lab) else { throw ValidationError("labs are numbered 1 to 5") }
    }

    func run() throws {
        var report = LabReport(title: Self.titles[lab - 1])
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let lab = Lab(runtime: runtime, socketPath: kernel.socketPath)
        do {
            switch self.lab {
            case 1: try lab.followABindingAndACall(&report)
            case 2: try lab.referenceMonitor(&report)
            case 3: try lab.killAServerMidCall(&report)
            case 4: try lab.whereTheTimeGoes(&report)
            default: try lab.writeAService(&report)
            }
        } catch {
            report.check(false, "", missing: "the checker stopped: \(error)")
        }
        print(report.summary)
        if !report.passed { throw ExitCode(1) }
    }

    static let titles = ["Lab 1: follow a binding and a call through the trace", "Lab 2: the kernel as reference monitor",
                         "Lab 3: kill a server in the middle of a call", "Lab 4: where the time goes",
                         "Lab 5: write a small protected service and call it"]
}

struct LabReport {
    let title: String
    private(set) var lines: [String] = []
    private(set) var passed = true

    init(title: String) { self.title = title }

    mutating func check(_ ok: Bool, _ right: String, missing: String) {
        passed = passed && ok
        lines.append(ok ? "  ok       \(right)" : "  MISSING  \(missing)")
    }

    mutating func note(_ text: String) { lines.append("           " + text) }

    var summary: String {
        ([title] + lines + [passed ? "all expected observations seen" : "some expected observations are missing (see MISSING)"])
            .joined(separator: "\n")
    }
}

/// What the checkers share: the operator's runtime and the kernel's reports.
struct Lab {
    let runtime: DomainRuntime
    let socketPath: String

    func status() throws -> StatusReport {
        try JSONDecoder().decode(StatusReport.self, from: Data(runtime.admin("status").utf8))
    }

    func domain(_ name: String) throws -> DomainReport? { try status().domains.first { $0.name == name } }

    func bindings() throws -> [BindingReport] {
        try JSONDecoder().decode([BindingReport].self, from: Data(runtime.admin("bindings").utf8))
    }

    func trace(_ argument: String) throws -> TraceReply {
        try JSONDecoder().decode(TraceReply.self, from: Data(runtime.admin("trace", argument: argument).utf8))
    }

    /// Every trace entry so far, once complete (or after `seconds`).
    func traceEntries(seconds: Double = 5) throws -> [TraceEntry] {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            var entries: [TraceEntry] = []
            var next: UInt64 = 0
            while true {
                let reply = try trace("from=\(next)")
                if reply.entries.isEmpty { break }
                entries += reply.entries
                next = reply.next
            }
            if entries.allSatisfy(\.complete) || Date() > deadline { return entries }
            usleep(50_000)
        }
    }

    static func waitUntil(seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(20_000)
        }
        return try condition()
    }
}
