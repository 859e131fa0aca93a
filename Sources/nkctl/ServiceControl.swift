// The operator's control of services: kill (a signal, for fault injection), stop (a
// clean request, SIGKILL after a grace period), start, restart (which also resets the
// service's restart budget). The kernel does the work; these send the request.
import ArgumentParser
import Foundation
import LRPC

/// Send `command SERVICE [extra]` to the kernel and print its answer.
private func control(_ kernel: KernelOptions, _ command: String, _ service: String, _ extra: String = "") throws {
    let runtime = try kernel.connect()
    let body: String
    do {
        body = try runtime.admin(command, argument: extra.isEmpty ? service : "\(service) \(extra)")
    } catch {
        throw CommandFailed(TerminalText.line("\(command) \(service): \(error)"))
    }
    let reply = try? JSONDecoder().decode([String: String].self, from: Data(body.utf8))
    print(TerminalText.line(reply?["result"] ?? body))
}

struct Kill: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send a signal to a service's process (default KILL); its restart policy decides what follows.")
    @OptionGroup var kernel: KernelOptions
    @Option(help: "Signal name (KILL, STOP, CONT, SEGV, ...) or number.") var signal: String = "KILL"
    @Argument(help: "The service, as the image names it.") var service: String

    func run() throws { try control(kernel, "kill", service, signal) }
}

struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask a service to stop (SIGKILL after a grace period); it stays stopped until `start`.")
    @OptionGroup var kernel: KernelOptions
    @Argument(help: "The service, as the image names it.") var service: String

    func run() throws { try control(kernel, "stop", service) }
}

struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start a stopped or failed service.")
    @OptionGroup var kernel: KernelOptions
    @Argument(help: "The service, as the image names it.") var service: String

    func run() throws { try control(kernel, "start", service) }
}

struct Restart: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop a service cleanly and start it again; resets its restart budget and back-off.")
    @OptionGroup var kernel: KernelOptions
    @Argument(help: "The service, as the image names it.") var service: String

    func run() throws { try control(kernel, "restart", service) }
}
