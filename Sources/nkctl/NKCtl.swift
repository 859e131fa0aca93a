// nkctl: the operator's command line. `boot` runs the kernel (in this process, or
// detached); every other command connects to a running kernel as a client domain.
import ArgumentParser
import Foundation
import LRPC
import NanoAdmin
import NanoKernel

@main
struct NKCtl: ParsableCommand {
    /// Print our own errors plainly (ArgumentParser would append an unrelated usage line).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as CommandFailed {
            FileHandle.standardError.write(Data("nkctl: \(TerminalText.lines(failure.description))\n".utf8))
            Foundation.exit(1)
        } catch let failure as UsageFailure {
            FileHandle.standardError.write(Data("nkctl: \(TerminalText.lines(failure.description))\n".utf8))
            Foundation.exit(2)
        } catch {
            // What ArgumentParser would print, but an error that quotes the kernel or a
            // service is neutralised first.
            let code = exitCode(for: error)
            let message = TerminalText.lines(fullMessage(for: error))
            if !message.isEmpty {
                let stream = code == .success ? FileHandle.standardOutput : FileHandle.standardError
                stream.write(Data((message + "\n").utf8))
            }
            Foundation.exit(code.rawValue)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "nkctl",
        abstract: "Boot and drive a NanoKernel: services in sandboxed domains, called over LRPC.",
        subcommands: [Boot.self, Status.self, Bindings.self, Call.self, Copy.self, Trace.self, Layout.self, Bench.self,
                      FileBench.self, Kill.self, Stop.self, Start.self, Restart.self, LabCheck.self, Shutdown.self])
}

struct KernelOptions: ParsableArguments {
    @Option(help: "The kernel's control socket (default: $NK_SOCKET, else your runtime directory).")
    var socket: String?

    var socketPath: String { socket ?? defaultSocketPath() }

    /// Join the kernel as a client domain.
    func connect() throws -> DomainRuntime {
        do {
            return try DomainRuntime.connect(socketPath: socketPath, name: "nkctl")
        } catch {
            throw CommandFailed("cannot reach a kernel at \(socketPath): \(error)\n(start one with `nkctl boot --detach`)")
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "One row per domain: name, pid, state, calls served.")
    @OptionGroup var kernel: KernelOptions
    @Flag(help: "Machine-readable output.") var json = false

    func run() throws {
        let body = try kernel.connect().admin("status")
        if json { print(TerminalText.json(body)); return }
        let report = try JSONDecoder().decode(StatusReport.self, from: Data(body.utf8))
        var rows = [["DOMAIN", "ID", "PID", "STATE", "UP", "RESTARTS", "CALLS", "REFUSED", "EXPORTS", "LAST EVENT"]]
        for d in report.domains {
            let state = d.restartInSeconds.map { "\(d.state) (\(String(format: "%.2f", $0)) s)" } ?? d.state
            let up = d.uptimeSeconds > 0 ? String(format: "%.1fs", d.uptimeSeconds) : "-"
            let restarts = d.kind == "service" ? "\(d.restartsInWindow)/\(d.restarts)" : "-"
            let event = d.lastEvent.isEmpty && !d.lastExit.isEmpty ? "previous run: \(d.lastExit)" : d.lastEvent
            rows.append([d.name, String(d.id), String(d.pid), state, up, restarts, String(d.callsServed), String(d.refusals),
                         d.exports.joined(separator: ","), event])
        }
        print("image \(TerminalText.line(report.image)), up \(String(format: "%.1f", report.uptimeSeconds)) s")
        printTable(rows)
    }
}

struct Bindings: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "One row per binding: client, interface, A-stacks in use.")
    @OptionGroup var kernel: KernelOptions
    @Flag(help: "Machine-readable output.") var json = false

    func run() throws {
        let runtime = try kernel.connect()
        var bindings: [BindingReport] = []
        // The kernel replies a page at a time (BindingReport.pageSize rows).
        while true {
            let from = bindings.last.map { $0.binding + 1 } ?? 0
            let page = try JSONDecoder().decode([BindingReport].self, from: Data(runtime.admin("bindings", argument: "from=\(from)").utf8))
            bindings += page
            if page.count < BindingReport.pageSize { break }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(TerminalText.json(String(decoding: try encoder.encode(bindings), as: UTF8.self)))
            return
        }
        var rows = [["BINDING", "CLIENT", "INTERFACE", "SERVER", "TRANSPORT", "A-STACKS", "IN USE", "CALLS"]]
        for b in bindings {
            rows.append([String(b.binding), b.client, b.interface, b.server, b.transport,
                         b.astacks == 0 ? "none" : "\(b.astacks)x\(b.astackBytes)B", String(b.astacksInUse), String(b.calls)])
        }
        guard !bindings.isEmpty else {
            print("""
                no live bindings. A binding lives as long as its client holds it: services release their
                binding to the name service once registered, and each `nkctl call` releases its own when
                it exits. Watch bindings being made and released with `nkctl trace --follow`, or keep
                one alive with the teaching image (`nkctl call demo.hold` holds a binding and a slot).
                """)
            return
        }
        printTable(rows)
    }
}

struct Call: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Call a procedure over LRPC from nkctl's own client domain.",
        discussion: """
            Example: nkctl call clock.now; nkctl call bench.add 2 3
            Options may come before or after the target (nkctl call bench.add 2 3 --json --socket S). \
            Every word after -- is a procedure argument, even one that looks like an option.
            """)
    @OptionGroup var kernel: KernelOptions
    @Flag(help: "Machine-readable output.") var json = false
    @Option(help: "lrpc or message (default: the image's choice for the interface).") var transport: Transport?
    @Option(help: "Seconds to wait for the service and its answer (default: the image's deadline for the interface).")
    var timeout: Double?
    @Argument(help: "INTERFACE.PROCEDURE") var target: String
    /// Passthrough, so negative numbers stay arguments; `call`'s options after the target
    /// are taken out by CallArguments.
    @Argument(parsing: .captureForPassthrough, help: "The procedure's arguments, in order.") var arguments: [String] = []

    func run() throws {
        let trailing = try CallArguments(arguments)
        let json = self.json || trailing.json
        let arguments = trailing.values
        let transport = try CallArguments.merged(self.transport, trailing.transport, option: "--transport")
        let timeout = try CallArguments.merged(self.timeout, trailing.timeout, option: "--timeout")
        var kernel = self.kernel
        kernel.socket = try CallArguments.merged(kernel.socket, trailing.socket, option: "--socket")
        let parts = target.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw UsageFailure("expected INTERFACE.PROCEDURE, got '\(target)'") }
        if let timeout, !(timeout > 0 && timeout.isFinite) {
            throw UsageFailure("--timeout must be a positive number of seconds, got \(timeout)")
        }
        let deadline = timeout.map { CallDeadline(seconds: $0) }
        let runtime = try kernel.connect()
        let binding: ClientBinding
        do {
            binding = try runtime.importInterface(parts[0], transport: transport,
                                                  timeoutSeconds: deadline?.remainingSeconds ?? DomainRuntime.defaultImportWaitSeconds)
        } catch { throw CommandFailed(TerminalText.line("\(target): \(error)")) }
        guard let procedure = binding.interface.procedure(named: parts[1]) else {
            let names = binding.interface.procedures.map(\.name).joined(separator: ", ")
            throw UsageFailure(TerminalText.line("interface '\(parts[0])' has no procedure '\(parts[1])'; procedures: \(names)"))
        }
        let call = GenericCall(interface: binding.interface, procedure: procedure)
        let values: [ArgumentValue]
        do { values = try call.parse(arguments) } catch { throw UsageFailure("\(error)") }
        let results: [(String, ResultValue)]
        do {
            let remaining = deadline.map { max($0.remainingSeconds, 0.000_001) }
            results = try binding.call(procedureID: procedure.id, name: procedure.name, timeoutSeconds: remaining,
                                       write: { (w: inout AStackWriter) throws(CallError) in try call.write(values, to: &w) },
                                       read: { (r: inout AStackReader) throws(CallError) in try call.read(&r) })
        } catch .fieldTooLarge(let field, let size, let limit) {
            // Already names interface.procedure: field.
            throw CommandFailed("\(CallError.fieldTooLarge(field: field, size: size, limit: limit))")
        } catch {
            throw CommandFailed("\(target): \(TerminalText.line("\(error)"))")
        }
        if json {
            print("{" + results.map { "\(jsonString($0.0)): \($0.1.json)" }.joined(separator: ", ") + "}")
        } else if results.isEmpty {
            print("ok")
        } else {
            for (name, value) in results { print("\(TerminalText.line(name)): \(TerminalText.line(value.plain))") }
        }
    }
}

/// A command that ran and failed: exit status 1, the message on stderr.
struct CommandFailed: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Wrong or missing arguments: exit status 2.
struct UsageFailure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

struct Shutdown: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop every domain, then the kernel.")
    @OptionGroup var kernel: KernelOptions

    func run() throws {
        let runtime = try kernel.connect()
        _ = try runtime.admin("shutdown")
        // Wait until the kernel has let go of the socket.
        for _ in 0..<100 where runtime.isKernelAlive { usleep(50_000) }
        print(runtime.isKernelAlive ? "kernel still stopping" : "kernel stopped")
    }
}

func printTable(_ rows: [[String]]) {
    tableLines(rows).forEach { print($0) }
}

/// Rows as aligned lines; the last column is not padded. Cells come from the kernel and
/// its domains: one line each, nothing a terminal obeys.
func tableLines(_ rows: [[String]]) -> [String] {
    guard let header = rows.first else { return [] }
    let rows = rows.map { $0.map(TerminalText.line) }
    let widths = header.indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
    return rows.map { row in
        row.enumerated().map { i, cell in
            i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }
}

extension Transport: ExpressibleByArgument {}
