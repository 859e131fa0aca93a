// FaultInjector: one fault at a time, at random moments, of these kinds:
//   sigkill      SIGKILL a service's process
//   stop-cont    SIGSTOP a service, then SIGCONT it 50-800 ms later
//   crash        ask faulty to crash from inside a call (SIGILL)
//   crash-loop   crash faulty each time it comes back until its budget is spent (it
//                must then be `failed` and refused at once), then `nkctl restart` it
//   overload     a burst of 16 threads making calls and imports as fast as they can
//   hang         a call to a server that holds it past the caller's deadline
//   stop-start   the operator's stop, then start
//   restart      the operator's restart
//   kill-client  SIGKILL a client process (another takes its place)
// Around SIGKILLs of bench it measures death-to-error and death-to-answer.
import Foundation
import Synchronization
import Glibc
import Interfaces
import LRPC
import NanoAdmin

final class FaultInjector: @unchecked Sendable {
    let campaign: Campaign
    let control: DomainRuntime
    var generator: SplitMix

    init(campaign: Campaign, control: DomainRuntime, seed: UInt64) {
        self.campaign = campaign
        self.control = control
        generator = SplitMix(seed: seed == 0 ? UInt64(monotonicNanoseconds()) : seed)
    }

    func run(until end: UInt64) {
        let kinds = ["sigkill", "sigkill", "sigkill", "stop-cont", "stop-cont", "crash", "crash", "crash-loop", "overload",
                     "hang", "hang", "stop-start", "restart", "kill-client", "kill-client"]
        while monotonicNanoseconds() < end {
            usleep(UInt32(Int.random(in: 150_000...500_000, using: &generator)))
            guard campaign.kernelAlive else {
                campaign.summary.kernelDeaths = 1
                return
            }
            let kind = kinds.randomElement(using: &generator)!
            let target = Campaign.services.randomElement(using: &generator)!
            let remaining = Double(end &- monotonicNanoseconds()) / 1e9
            if inject(kind, target, remaining: max(remaining, 0)) { campaign.record(kind) }
            if target == "name" && ["sigkill", "stop-start", "restart"].contains(kind) { checkRegistry() }
        }
    }

    private func inject(_ kind: String, _ target: String, remaining: Double) -> Bool {
        switch kind {
        case "sigkill": return target == "bench" ? measuredKill() : signal(target, SIGKILL)
        case "stop-cont":
            guard signal(target, SIGSTOP) else { return false }
            usleep(UInt32(Int.random(in: 50_000...800_000, using: &generator)))
            return signal(target, SIGCONT)
        case "crash": return crashFaulty()
        case "crash-loop": return crashLoop()
        case "overload": return overload()
        case "hang": return hang()
        case "stop-start":
            guard operate("stop", target) else { return false }
            _ = waitUntil(seconds: 5) { self.state(of: target) == "stopped" }
            usleep(UInt32(Int.random(in: 0...300_000, using: &generator)))
            return operate("start", target)
        case "restart": return operate("restart", target)
        default: return campaign.killRandomClient(remaining: remaining)
        }
    }

    // MARK: helpers

    private func pid(of service: String) -> Int32? {
        campaign.service(service, in: campaign.status(control)).flatMap { $0.pid > 0 && ["ready", "starting"].contains($0.state) ? $0.pid : nil }
    }

    private func state(of service: String) -> String? { campaign.service(service, in: campaign.status(control))?.state }

    /// Signals straight from this process (root), so the moment of death is known.
    private func signal(_ service: String, _ signal: Int32) -> Bool {
        guard let pid = pid(of: service) else { return false }
        return kill(pid, signal) == 0
    }

    private func operate(_ command: String, _ service: String) -> Bool {
        (try? control.admin(command, argument: service, timeoutSeconds: 10)) != nil
    }

    private func crashFaulty() -> Bool {
        let faulty = ServiceConnection(runtime: control, interface: FaultyInterface.name)
        do {
            _ = try faulty.call(FaultyInterface.crash, Empty(), timeoutSeconds: 3)
            return false
        } catch .serverDied {
            return true
        } catch {
            return false
        }
    }

    private func crashLoop() -> Bool {
        for _ in 0..<20 {
            if state(of: "faulty") == "failed" { break }
            _ = waitUntil(seconds: 3) { ["ready", "failed"].contains(self.state(of: "faulty")) }
            _ = crashFaulty()
        }
        guard waitUntil(seconds: 3, { self.state(of: "faulty") == "failed" }) else { return false }
        // A failed service is refused at once, with the reason.
        let probe = ServiceConnection(runtime: control, interface: FaultyInterface.name)
        let start = monotonicNanoseconds()
        do {
            _ = try probe.call(FaultyInterface.null, Empty(), timeoutSeconds: 5)
            campaign.lock.withLock { campaign.summary.failures.append("a call to a failed service succeeded") }
        } catch .unavailable(let text) where text.contains("service 'faulty' failed") {
            if monotonicNanoseconds() - start > 1_000_000_000 {
                campaign.lock.withLock { campaign.summary.failures.append("a failed service was not refused at once") }
            }
        } catch {
            campaign.lock.withLock { campaign.summary.failures.append("a call to a failed service: \(error)") }
        }
        return operate("restart", "faulty")
    }

    private func overload() -> Bool {
        let group = DispatchGroup()
        for i in 0..<16 {
            group.enter()
            Thread { [control] in
                defer { group.leave() }
                let bench = ServiceConnection(runtime: control, interface: i % 2 == 0 ? BenchInterface.name : ClockInterface.name)
                for _ in 0..<200 {
                    if i % 2 == 0 {
                        _ = try? bench.call(BenchInterface.null, Empty(), timeoutSeconds: 2)
                    } else {
                        _ = try? bench.call(ClockInterface.now, Empty(), timeoutSeconds: 2)
                    }
                }
                // And imports, each one a binding the kernel makes and revokes.
                for _ in 0..<5 { _ = try? control.importInterface(NameInterface.name, timeoutSeconds: 2) }
            }.start()
        }
        return group.wait(timeout: .now() + 30) == .success
    }

    /// A call to a server that holds it past the caller's deadline: it must return
    /// `timedOut` promptly, and nobody may be refused afterwards.
    private func hang() -> Bool {
        let faulty = ServiceConnection(runtime: control, interface: FaultyInterface.name)
        let deadline = 0.1
        let start = monotonicNanoseconds()
        do {
            _ = try faulty.call(FaultyInterface.hold, 600, timeoutSeconds: deadline)
            return false
        } catch .timedOut {
            let overshoot = Double(monotonicNanoseconds() - start) / 1e6 - deadline * 1000
            campaign.lock.withLock { campaign.summary.timeoutOvershoot.append(overshoot) }
            return true
        } catch {
            return false
        }
    }

    /// SIGKILL bench with a call in flight: how long until the caller hears, and until
    /// the restarted bench answers.
    func measureDeaths(_ count: Int) {
        for _ in 0..<count where campaign.kernelAlive {
            _ = waitUntil(seconds: 10) { self.state(of: "bench") == "ready" }
            if measuredKill() { campaign.record("measured-sigkill") }
        }
    }

    private func measuredKill() -> Bool {
        guard let pid = pid(of: "bench") else { return false }
        let bench = ServiceConnection(runtime: control, interface: BenchInterface.name)
        guard (try? bench.call(BenchInterface.null, Empty(), timeoutSeconds: 2)) != nil else { return false }
        // Shared with the caller thread, which may outlive this wait: owned by both, not freed here.
        let failedAt = Shared<UInt64>(0)
        let done = DispatchSemaphore(value: 0)
        Thread {
            do { _ = try bench.call(BenchInterface.hold, 3_000, timeoutSeconds: 5) } catch {
                if case .serverDied? = error as? CallError { failedAt.value.withLock { $0 = monotonicNanoseconds() } }
            }
            done.signal()
        }.start()
        usleep(50_000)
        let killedAt = monotonicNanoseconds()
        guard kill(pid, SIGKILL) == 0 else { return false }
        _ = done.wait(timeout: .now() + 10)
        let failed = failedAt.value.withLock { $0 }
        if failed > killedAt {
            let ms = Double(failed - killedAt) / 1e6
            campaign.lock.withLock { campaign.summary.deathToCallerError.append(ms) }
        }
        // The next calls rebind to the restarted bench.
        let answered = waitUntil(seconds: 10) { (try? bench.call(BenchInterface.null, Empty(), timeoutSeconds: 1)) != nil }
        if answered {
            let ms = Double(monotonicNanoseconds() - killedAt) / 1e6
            campaign.lock.withLock { campaign.summary.deathToAnswer.append(ms) }
        }
        return true
    }

    /// After a name restart every live service must be registered again.
    private func checkRegistry() {
        campaign.lock.withLock { campaign.summary.nameRestarts += 1 }
        let names = ServiceConnection(runtime: control, interface: NameInterface.name)
        let whole = waitUntil(seconds: 15) {
            let report = self.campaign.status(self.control)
            let live = Campaign.services.filter { self.campaign.service($0, in: report)?.state == "ready" }
            guard let listed = try? names.call(NameInterface.list, Empty(), timeoutSeconds: 2).names else { return false }
            return Set(live).isSubset(of: Set(listed))
        }
        campaign.lock.withLock {
            if whole { campaign.summary.registryWholeAfterNameRestart += 1 } else { campaign.summary.registryBrokenAfterNameRestart += 1 }
        }
    }
}

/// A small seeded generator, so a campaign can be replayed with --seed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
