// Campaign: boot, load, faults, checks. See main.swift for what it asserts.
import Foundation
import Synchronization
import Glibc
import Interfaces
import LRPC
import NanoAdmin

struct CampaignOptions {
    var seconds: Double = 60
    var jsonPath: String?
    var seed: UInt64 = 0
    /// SIGKILLs of bench with a call in flight after the faults, for the timing figures.
    var measuredDeaths = 20
}

/// What the campaign prints and asserts.
struct CampaignSummary: Codable {
    var seconds = 0.0
    var faults: [String: Int] = [:]
    var calls = CallCounts()
    var kernelDeaths = 0
    var servicesLostForGood: [String] = []
    var nameRestarts = 0
    var registryWholeAfterNameRestart = 0
    var registryBrokenAfterNameRestart = 0
    var kernel = ResourceTrack()
    var processesLeftAfterKernelKill: [Int32] = []
    /// Milliseconds: a caller's in-flight call failing after its server was SIGKILLed.
    var deathToCallerError: [Double] = []
    /// Milliseconds: SIGKILL to the restarted server answering a call.
    var deathToAnswer: [Double] = []
    /// Milliseconds past the deadline a timed-out call returned.
    var timeoutOvershoot: [Double] = []
    var failures: [String] = []
}

final class Campaign: @unchecked Sendable {
    let options: CampaignOptions
    let directory: String
    let socketPath: String
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
    var nkctl: String { URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("nkctl").path }
    var kernelPid: Int32 = 0
    var summary = CampaignSummary()
    let lock = NSLock()
    var clients: [ClientHandle] = []
    var retiredClientCounts = CallCounts()

    static let services = ["name", "clock", "bench", "faulty", "file"]

    init(_ options: CampaignOptions) {
        self.options = options
        directory = NSTemporaryDirectory() + "nk-campaign-\(getpid())"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        socketPath = directory + "/kernel.sock"
    }

    func image() -> String { Self.imageText.replacingOccurrences(of: "@FILES@", with: directory + "/files") }

    /// A service entry of the campaign's image, restarted with the given back-off and budget.
    static func service(_ name: String, imports: [String] = ["name"], registry: Bool = false,
                        backoff: (ms: Int, capMs: Int), budget: (count: Int, windowS: Int), extra: String = "") -> String {
        """
        [[service]]
        name = "\(name)"
        executable = "nk-\(name)"
        provides = ["\(name)"]
        imports = [\(imports.map { "\"\($0)\"" }.joined(separator: ", "))]
        \(registry ? "registry = true" : "")
        [service.supervision]
        backoff_ms = \(backoff.ms)
        backoff_cap_ms = \(backoff.capMs)
        budget = \(budget.count)
        window_s = \(budget.windowS)
        \(extra)
        """
    }

    // The default services plus faulty, restarted on any failure. The budgets are wide for
    // the services the campaign kills at random and narrow for faulty, whose crash loops
    // are meant to exhaust it.
    static let imageText: String = {
        let wide = (backoff: (ms: 20, capMs: 500), budget: (count: 200, windowS: 30))
        let fileStore = """
            [service.sandbox]
            open_files = 256
            [service.file]
            root = "@FILES@"
            [[service.file.view]]
            client = "operator"
            path = ""
            access = "read-write"
            """
        return """
            [image]
            name = "fault-campaign"

            [operator]
            imports = ["name", "clock", "bench", "faulty", "file"]

            """ + [
                service("name", imports: [], registry: true, backoff: wide.backoff, budget: wide.budget),
                service("clock", backoff: wide.backoff, budget: wide.budget),
                service("bench", backoff: wide.backoff, budget: wide.budget),
                service("file", backoff: wide.backoff, budget: wide.budget, extra: fileStore),
                service("faulty", backoff: (ms: 10, capMs: 200), budget: (count: 5, windowS: 10)),
            ].joined(separator: "\n")
    }()

    func run() -> Bool {
        let started = monotonicNanoseconds()
        guard boot() else { return report() }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        guard let control = try? DomainRuntime.connect(socketPath: socketPath, name: "campaign") else {
            summary.failures.append("cannot join the kernel")
            return report()
        }
        if let s = KernelProbe.sample(kernelPid) { summary.kernel.start = s; summary.kernel.observe(s) }
        let load = CallLoad(runtime: control, threads: 3)
        load.start()
        let clientSeconds = options.seconds + 5
        for _ in 0..<3 { spawnClient(seconds: clientSeconds) }
        let sampler = Thread { [self] in sampleKernel(until: started + UInt64((options.seconds + 60) * 1e9)) }
        sampler.start()

        let injector = FaultInjector(campaign: self, control: control, seed: options.seed)
        injector.run(until: started + UInt64(options.seconds * 1e9))
        // Then, with the clients still calling, a run of measured deaths of bench: enough
        // samples for a median and a p99 of death-to-error and death-to-answer.
        injector.measureDeaths(options.measuredDeaths)

        // Let everything settle: faults stop, services come back, clients finish.
        load.stop()
        stopClients()
        settle(control)
        summary.calls = load.snapshot
        summary.calls.add(retiredClientCounts)
        for client in clients { summary.calls.add(client.counts) }
        control.close()
        usleep(500_000)
        if let s = KernelProbe.sample(kernelPid) { summary.kernel.end = s; summary.kernel.observe(s) } else { summary.kernelDeaths = 1 }
        summary.seconds = Double(monotonicNanoseconds() - started) / 1e9
        killKernelAndCheck()
        return report()
    }

    // MARK: boot and teardown

    private func boot() -> Bool {
        let imagePath = directory + "/campaign.toml"
        try? FileManager.default.createDirectory(atPath: directory + "/files", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: imagePath, contents: Data(image().utf8))
        let (status, output) = runProgram([nkctl, "boot", "--detach", "--image", imagePath, "--socket", socketPath], timeout: 60)
        guard status == 0, let range = output.range(of: "kernel pid "),
              let pid = Int32(output[range.upperBound...].prefix { $0.isNumber }) else {
            summary.failures.append("boot failed (\(status)): \(output)")
            return false
        }
        kernelPid = pid
        return true
    }

    func status(_ runtime: DomainRuntime) -> StatusReport? {
        guard let body = try? runtime.admin("status", timeoutSeconds: 5) else { return nil }
        return try? JSONDecoder().decode(StatusReport.self, from: Data(body.utf8))
    }

    func service(_ name: String, in report: StatusReport?) -> DomainReport? {
        report?.domains.filter { $0.kind == "service" && $0.name == name }.max { $0.id < $1.id }
    }

    var kernelAlive: Bool { !KernelProbe.hasExited(kernelPid) }

    /// Every service with a restart policy must be back (failed ones the campaign itself
    /// drove past their budget were restarted by it as an operator would).
    private func settle(_ control: DomainRuntime) {
        let back = waitUntil(seconds: 20) {
            let report = self.status(control)
            return Self.services.allSatisfy { self.service($0, in: report)?.state == "ready" }
        }
        if !back {
            let report = status(control)
            summary.servicesLostForGood = Self.services.filter { service($0, in: report)?.state != "ready" }
                .map { "\($0) (\(service($0, in: report)?.state ?? "missing"): \(service($0, in: report)?.lastEvent ?? ""))" }
        }
        if !kernelAlive { summary.kernelDeaths = 1 }
    }

    private func killKernelAndCheck() {
        guard let runtime = try? DomainRuntime.connect(socketPath: socketPath, name: "campaign-end"),
              let report = status(runtime) else { return }
        let pids = report.domains.filter { $0.kind == "service" && $0.pid > 0 }.map(\.pid)
        runtime.close()
        kill(kernelPid, SIGKILL)
        let clientPids = clients.map(\.pid)
        _ = waitUntil(seconds: 10) { (pids + clientPids + [self.kernelPid]).allSatisfy(KernelProbe.hasExited) }
        summary.processesLeftAfterKernelKill = (pids + clientPids).filter { !KernelProbe.hasExited($0) }
        for pid in summary.processesLeftAfterKernelKill { kill(pid, SIGKILL) }
    }

    private func sampleKernel(until end: UInt64) {
        while monotonicNanoseconds() < end && kernelPid > 0 {
            if let s = KernelProbe.sample(kernelPid) {
                lock.withLock { summary.kernel.observe(s) }
            } else {
                return
            }
            usleep(500_000)
        }
    }

    // MARK: client processes

    func spawnClient(seconds: Double) {
        guard let client = ClientHandle.spawn(executable: executable, socketPath: socketPath, seconds: seconds, threads: 2) else {
            return
        }
        lock.withLock { clients.append(client) }
    }

    /// SIGKILL a random client process and start another in its place.
    func killRandomClient(remaining seconds: Double) -> Bool {
        guard let victim = lock.withLock({ clients.randomElement() }) else { return false }
        kill(victim.pid, SIGKILL)
        victim.wait()
        lock.withLock {
            clients.removeAll { $0 === victim }
            retiredClientCounts.add(victim.counts)
        }
        spawnClient(seconds: seconds + 5)
        return true
    }

    private func stopClients() {
        let running = lock.withLock { clients }
        for client in running { kill(client.pid, SIGUSR1) }
        for client in running { client.wait(seconds: CallLoad.hungAfterSeconds + 5) }
    }

    // MARK: report

    func record(_ fault: String) { lock.withLock { summary.faults[fault, default: 0] += 1 } }

    private func report() -> Bool {
        check()
        let s = summary
        func stats(_ values: [Double]) -> String {
            guard !values.isEmpty else { return "no samples" }
            let sorted = values.sorted()
            let p99 = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
            return String(format: "median %.1f ms, p99 %.1f ms, n=%d", sorted[sorted.count / 2], p99, sorted.count)
        }
        print("fault campaign: \(String(format: "%.0f", s.seconds)) s")
        print("  faults injected: " + s.faults.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        print("  calls made \(s.calls.calls): answered with a result \(s.calls.results), with a clear error \(s.calls.clearErrors.values.reduce(0, +)) "
              + "(" + s.calls.clearErrors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "), "
              + "unclear errors \(s.calls.unclearErrors), wrong results \(s.calls.wrongResults), hung \(s.calls.hung)")
        if !s.calls.unclearSamples.isEmpty { print("  unclear samples: \(s.calls.unclearSamples)") }
        print("  kernel deaths \(s.kernelDeaths); services lost for good \(s.servicesLostForGood.count) \(s.servicesLostForGood)")
        print("  name restarts \(s.nameRestarts): registry whole after \(s.registryWholeAfterNameRestart), broken after \(s.registryBrokenAfterNameRestart)")
        print("  kernel fds start \(s.kernel.start.fds) max \(s.kernel.max.fds) end \(s.kernel.end.fds); "
              + "threads \(s.kernel.start.threads)/\(s.kernel.max.threads)/\(s.kernel.end.threads); "
              + "RSS KiB \(s.kernel.start.rssKiB)/\(s.kernel.max.rssKiB)/\(s.kernel.end.rssKiB)")
        print("  processes left after the kernel was killed: \(s.processesLeftAfterKernelKill.count)")
        print("  server death to its caller's error: \(stats(s.deathToCallerError))")
        print("  server death to the restarted server answering: \(stats(s.deathToAnswer))")
        print("  timed-out call past its deadline: \(stats(s.timeoutOvershoot))")
        print(s.failures.isEmpty ? "  PASSED" : "  FAILED:\n" + s.failures.map { "    - \($0)" }.joined(separator: "\n"))
        if let path = options.jsonPath {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            if let data = try? encoder.encode(s) { FileManager.default.createFile(atPath: path, contents: data) }
        }
        return s.failures.isEmpty
    }

    private func check() {
        var f: [String] = []
        let s = summary
        if s.calls.hung > 0 { f.append("\(s.calls.hung) calls hung") }
        if s.kernelDeaths > 0 { f.append("the kernel died") }
        if !s.servicesLostForGood.isEmpty { f.append("services lost for good: \(s.servicesLostForGood)") }
        if s.registryBrokenAfterNameRestart > 0 { f.append("name registry incomplete after \(s.registryBrokenAfterNameRestart) name restarts") }
        if s.calls.unclearErrors > 0 { f.append("\(s.calls.unclearErrors) unclear errors, e.g. \(s.calls.unclearSamples.first ?? "")") }
        if s.calls.wrongResults > 0 { f.append("\(s.calls.wrongResults) wrong results, e.g. \(s.calls.wrongSamples)") }
        if s.calls.results == 0 { f.append("no call was answered") }
        if !s.processesLeftAfterKernelKill.isEmpty { f.append("processes left after the kernel was killed: \(s.processesLeftAfterKernelKill)") }
        // Back to baseline: a small slack for a descriptor or thread still closing.
        if s.kernel.end.fds > s.kernel.start.fds + 4 { f.append("kernel fds grew: \(s.kernel.start.fds) → \(s.kernel.end.fds)") }
        if s.kernel.end.threads > s.kernel.start.threads + 2 { f.append("kernel threads grew: \(s.kernel.start.threads) → \(s.kernel.end.threads)") }
        summary.failures += f
    }
}

/// Run a program to its end (killed after `timeout` seconds): exit status and output.
/// The output is read to end-of-file only while the program runs: a daemon it leaves
/// behind must not hold the pipe (a detached kernel does not).
func runProgram(_ arguments: [String], timeout: Double) -> (Int32, String) {
    guard let child = Subprocess.spawn(arguments, stderrToo: true) else { return (-1, "cannot run \(arguments[0])") }
    let lines = Shared<[String]>([])
    let reader = Thread { child.readLines { line in lines.value.withLock { $0.append(line) } } }
    reader.start()
    let status = child.wait(seconds: timeout)
    _ = waitUntil(seconds: 2) { reader.isFinished }
    return (status, lines.value.withLock { $0.joined(separator: "\n") })
}

/// A value two threads share, under a lock, owned by whoever still holds it.
final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ initial: Value) { value = Mutex(initial) }
}
