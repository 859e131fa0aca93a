// Where the three processes of an LRPC call run (this client, the kernel, the bench
// server), and the checks that make `nkctl bench` label its results truthfully.
//
// Placement decides the speed on these VMs (DESIGN.md: waking a thread on another CPU
// costs tens of microseconds), so a run that claims one placement but ran another would
// be worse than no run. The kernel and its services inherit the CPU affinity and NK_SPIN
// of `nkctl boot`; the bench reads both back from /proc and refuses a mismatch.
import ArgumentParser
import Foundation
import Glibc
import LRPC
import NanoKernel

enum Placement: String, ExpressibleByArgument, CaseIterable, Encodable {
    /// Every process may run on every CPU; the scheduler decides.
    case scheduler
    /// Every process on one CPU: boot and bench both started under `taskset -c N`.
    case sameCPU = "same-cpu"
}

/// The processes of one call, as /proc sees them.
struct CallProcesses {
    let kernelPID: Int32
    let serverPID: Int32

    /// The bench server's pid comes from the kernel's status; the kernel spawned it, so
    /// the kernel is its parent.
    init(runtime: DomainRuntime, interface: String) throws {
        let report = try JSONDecoder().decode(StatusReport.self, from: Data(runtime.admin("status").utf8))
        guard let server = report.domains.first(where: { $0.exports.contains(interface) }) else {
            throw CommandFailed("no domain exports '\(interface)'; boot an image with the bench service")
        }
        serverPID = server.pid
        guard let parent = procField("PPid", pid: String(server.pid)).flatMap({ Int32($0) }) else {
            throw CommandFailed("cannot read /proc/\(server.pid)/status of the \(interface) server")
        }
        kernelPID = parent
    }

    var roles: [(name: String, pid: String)] {
        [("nkctl bench", "self"), ("the kernel", String(kernelPID)), ("the bench server", String(serverPID))]
    }
}

/// Check that every process of the call runs where `placement` says, and return the
/// CPU list that gives nkfloor's three roles the same placement.
func verifyPlacement(_ placement: Placement, of processes: CallProcesses) throws -> String {
    var allowed: [(name: String, cpus: String)] = []
    for role in processes.roles {
        guard let cpus = procField("Cpus_allowed_list", pid: role.pid) else {
            throw CommandFailed("cannot read the CPU affinity of \(role.name) (/proc/\(role.pid)/status)")
        }
        allowed.append((role.name, cpus))
    }
    let own = allowed[0].cpus
    let singleCPU = !own.contains(",") && !own.contains("-")
    switch placement {
    case .sameCPU:
        guard singleCPU else {
            throw CommandFailed("same-cpu placement: nkctl bench may run on CPUs \(own); start it with `taskset -c 0 nkctl bench --placement same-cpu`")
        }
        if let stray = allowed.first(where: { $0.cpus != own }) {
            throw CommandFailed("same-cpu placement: \(stray.name) may run on CPUs \(stray.cpus), not only on CPU \(own); boot the kernel with `taskset -c \(own) nkctl boot --detach`")
        }
        return "\(own),\(own),\(own)"
    case .scheduler:
        if let other = allowed.first(where: { $0.cpus != own }) {
            throw CommandFailed("scheduler placement: \(other.name) may run on CPUs \(other.cpus), nkctl bench on \(own); run boot and bench under the same affinity")
        }
        if singleCPU && onlineCPUs() > 1 {
            throw CommandFailed("scheduler placement: every process is pinned to CPU \(own); that is --placement same-cpu")
        }
        return "-,-,-"
    }
}

/// Check that the kernel and the server spin as long as this client before sleeping
/// (NK_SPIN is read once per process, at start-up), and return that spin for nkfloor.
/// An environment that cannot be read is reported, not guessed.
func verifySpin(of processes: CallProcesses) throws -> Int {
    let spin = WaitPolicy.current.spinIterations
    for role in processes.roles.dropFirst() {
        guard let environment = try? String(contentsOfFile: "/proc/\(role.pid)/environ", encoding: .utf8) else {
            logError("nkctl bench: cannot read the environment of \(role.name); assuming it uses NK_SPIN=\(spin) as well")
            continue
        }
        let theirs = spinSetting(environment.split(separator: "\0").map(String.init))
        guard theirs == spin else {
            throw CommandFailed("\(role.name) spins \(theirs) iterations (NK_SPIN), this client \(spin); set the same NK_SPIN for `nkctl boot` and `nkctl bench`")
        }
    }
    return spin
}

/// The spin a process with this environment uses: WaitPolicy.current's rule.
private func spinSetting(_ environment: [String]) -> Int {
    let value = environment.first { $0.hasPrefix("NK_SPIN=") }.flatMap { Int($0.dropFirst("NK_SPIN=".count)) }
    guard let value, value >= 0 else { return WaitPolicy.defaultSpin }
    return value
}

/// One "Name:\tvalue" line of /proc/PID/status.
private func procField(_ name: String, pid: String) -> String? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    let prefix = name + ":"
    return status.split(separator: "\n").first { $0.hasPrefix(prefix) }
        .map { $0.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces) }
}

private func onlineCPUs() -> Int { sysconf(Int32(_SC_NPROCESSORS_ONLN)) }
