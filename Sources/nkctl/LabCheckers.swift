// The five lab checkers (docs/labs/lab1.md ... lab5.md). Each does what the lab asks the
// student to do and checks the observations the lab says to expect. None of them judges
// speed: lab 4 prints its numbers and checks only that they were measured.
import Foundation
import Glibc
import Interfaces
import LRPC
import NanoAdmin
import NanoKernel

extension Lab {
    // MARK: lab 1

    func followABindingAndACall(_ r: inout LabReport) throws {
        _ = try trace("on")
        defer { _ = try? trace("off") }
        let clock = try runtime.importInterface(ClockInterface.name)
        clock.callTimeoutSeconds = 10
        _ = try clock.call(ClockInterface.now, Empty())
        let entries = try traceEntries()
        let binding = entries.first { $0.kind == "binding" && $0.interface == "clock" && $0.client == runtime.domainName }
        r.check(binding != nil, "the trace shows the import of clock as a binding", missing: "no binding entry for the import of clock")
        if let binding {
            let seeds = Set(binding.steps.map(\.seed))
            for step in ["binding 3", "binding 4", "binding 5", "binding 6"] {
                r.check(seeds.contains(step), "\(step) appears in the binding", missing: "\(step) is not in the binding's steps")
            }
            let allocated = binding.steps.first { $0.seed == "binding 5" }?.at ?? 0
            let accepted = binding.steps.last { $0.seed == "binding 4" }?.at ?? 0
            r.check(allocated != 0 && allocated < accepted, "A-stacks are allocated before the clerk accepts (binding 5 before binding 4)",
                    missing: "the A-stack allocation is not before the clerk's acceptance")
        }
        guard let call = entries.first(where: { $0.kind == "call" && $0.interface == "clock" && $0.client == runtime.domainName }) else {
            return r.check(false, "", missing: "no call entry for clock.now")
        }
        r.check(call.outcome == "upcalled", "the call was validated and upcalled", missing: "the call's outcome is \(call.outcome)")
        let seeds = Set(call.steps.map(\.seed))
        for step in ["client 1", "client 2", "client 3-4", "kernel 1", "kernel 2-3", "kernel 4-5", "kernel 6-9", "server 1", "server 2", "server 3"] {
            r.check(seeds.contains(step), "step \(step) is in the call", missing: "step \(step) is not in the call's trace")
        }
        r.check(Set(call.steps.map(\.reportedBy)) == ["client", "kernel", "server"],
                "client, kernel and server each reported their own steps", missing: "a party's report is missing: \(call.missing)")
        let times = call.steps.sorted { $0.at < $1.at }
        r.check(times.first?.actor == "client" && times.last?.actor == "client", "the call starts and ends in the client",
                missing: "the call does not start and end in the client")
        if let first = times.first, let last = times.last {
            r.note(String(format: "clock.now took %.1f µs from the stub's first step to its last", Double(last.at - first.at) / 1000))
        }
        r.note("the trace block for it:")
        TraceBlock(call).text.split(separator: "\n").forEach { r.note(String($0)) }
    }

    // MARK: lab 2

    func referenceMonitor(_ r: inout LabReport) throws {
        guard try domain("demo") != nil else {
            return r.check(false, "", missing: "no demo domain: boot images/teaching.toml")
        }
        let demo = try runtime.importInterface(DemoInterface.name)
        demo.callTimeoutSeconds = 20
        let before = try domain("demo")?.refusals ?? 0
        let clockCalls = try domain("clock")?.callsServed ?? 0
        let cases: [(Procedure<Empty, DemoOutcome>, Refusal, String)] = [
            (DemoInterface.forge, .forgedBindingObject, "a forged binding object"),
            (DemoInterface.replay, .staleBindingObject, "a replayed (released) binding object"),
            (DemoInterface.swap, .foreignBindingObject, "another domain's binding object"),
            (DemoInterface.busy, .slotInUse, "an A-stack slot with a call in flight"),
            (DemoInterface.badProcedure, .unknownProcedure, "a procedure outside the PDL"),
            (DemoInterface.badSlot, .slotOutOfRange, "a slot the binding does not have"),
        ]
        for (procedure, refusal, what) in cases {
            let outcome = try demo.call(procedure, Empty())
            r.check(outcome.refusal == refusal.rawValue, "\(what) is refused: \(refusal)",
                    missing: "demo.\(procedure.name): expected \(refusal), got: \(outcome.report)")
        }
        let after = try domain("demo")?.refusals ?? 0
        r.check(after - before == UInt64(cases.count), "nkctl status counts \(cases.count) refusals against demo, the domain that trapped",
                missing: "demo's refusal count went from \(before) to \(after), expected +\(cases.count)")
        r.check(try domain("clock")?.callsServed == clockCalls, "clock never saw a refused call (its calls served did not change)",
                missing: "clock served calls during the refusals")
        do {
            _ = try runtime.importInterface(AccompliceInterface.name)
            r.check(false, "", missing: "nkctl could import accomplice, which the image does not allow")
        } catch {
            r.check(true, "importing accomplice is refused at binding step 3 (the image's policy): \(error)", missing: "")
        }
    }

    // MARK: lab 3

    func killAServerMidCall(_ r: inout LabReport) throws {
        guard let victim = try domain("bench") else { return r.check(false, "", missing: "no bench domain") }
        let bench = try runtime.importInterface(BenchInterface.name)
        bench.callTimeoutSeconds = 20
        let outcome = CallOutcome()
        try OSThread.spawn(name: "lab3-call") {
            do {
                _ = try bench.call(BenchInterface.hold, 5_000)
                outcome.finish(nil)
            } catch {
                outcome.finish(error as? CallError ?? .malformed("\(error)"))
            }
        }
        let inFlight = try Lab.waitUntil(seconds: 5) {
            try bindings().contains { $0.binding == bench.bindingObject.index && $0.astacksInUse == 1 }
        }
        r.check(inFlight, "nkctl bindings shows the call in flight (IN USE 1)", missing: "the call never showed as in flight")
        _ = try trace("on")
        defer { _ = try? trace("off") }
        let killed = monotonicNanoseconds()
        r.check(kill(victim.pid, SIGKILL) == 0, "killed bench (pid \(victim.pid)) with SIGKILL", missing: "cannot kill pid \(victim.pid)")
        let ended = outcome.wait(seconds: 10)
        let waited = Double(monotonicNanoseconds() - killed) / 1e6
        if case .some(.some(.serverDied)) = ended {
            r.check(true, String(format: "the caller's call failed with serverDied %.0f ms after the kill (not after its 5 s)", waited), missing: "")
        } else {
            r.check(false, "", missing: "the call in flight did not fail with serverDied: \(String(describing: ended))")
        }
        let restarted = try Lab.waitUntil(seconds: 10) {
            guard let d = try domain("bench") else { return false }
            return d.state == "ready" && d.pid != victim.pid && d.restarts > victim.restarts
        }
        let now = try domain("bench")
        r.check(restarted, "bench came back: pid \(now?.pid ?? 0), restarts \(now?.restarts ?? 0), last event: \(now?.lastEvent ?? "")",
                missing: "bench did not restart within 10 s (state \(now?.state ?? "gone"))")
        var replay: CallError?
        do { try bench.trap(procedureID: BenchInterface.null.id, slot: 0, bindingObject: bench.bindingObject) } catch { replay = error }
        r.check(replay == .refused(.staleBindingObject), "the old binding object is now stale: refused as stale",
                missing: "the old binding object, after the server died: \(replay.map { "\($0)" } ?? "accepted")")
        let entries = try traceEntries()
        r.check(entries.contains { $0.kind == "export" && $0.server == "bench" && $0.interface == "bench" },
                "the trace shows the new bench exporting its interface again (binding step 1)",
                missing: "no export by the restarted bench in the trace")
        r.check(entries.contains { $0.kind == "call" && $0.client == "bench" && $0.interface == "name" && $0.procedure == "register" },
                "and registering it with the clerk's registry: a call to name.register (binding step 2)",
                missing: "no name.register call from the restarted bench in the trace")
        let fresh = try runtime.importInterface(BenchInterface.name)
        fresh.callTimeoutSeconds = 10
        r.check((try? fresh.call(BenchInterface.add, AddArguments(2, 3))) == 5, "a new binding to the restarted bench works (2 + 3 = 5)",
                missing: "a call on a new binding to bench failed")
    }

    // MARK: lab 4

    func whereTheTimeGoes(_ r: inout LabReport) throws {
        let nkctl = currentExecutablePath()
        let output = try Self.capture([nkctl, "bench", "--socket", socketPath, "--iterations", "3000", "--warmup", "300",
                                       "--no-sweep", "--no-scaling", "--json"])
        guard let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
              let calls = json["calls"] as? [[String: Any]], let floors = json["floors"] as? [[String: Any]] else {
            return r.check(false, "", missing: "nkctl bench did not print its JSON report")
        }
        func median(_ row: [String: Any]?) -> Double? { ((row?["latency"] as? [String: Any])?["median_ns"] as? NSNumber)?.doubleValue }
        func call(_ name: String, _ transport: String) -> [String: Any]? {
            calls.first { $0["procedure"] as? String == name && $0["transport"] as? String == transport }
        }
        let floor = { (p: String) in median(floors.first { $0["pattern"] as? String == p }) }
        let lrpcNull = median(call("null", "lrpc")), messageNull = median(call("null", "message"))
        let futex3 = floor("futex3"), relay = floor("relay")
        r.check(lrpcNull != nil && messageNull != nil, "the null call was timed over both transports", missing: "a transport's null call is missing")
        r.check(futex3 != nil && relay != nil, "the floors (futex3, relay) were measured in the same run", missing: "a floor is missing")
        r.check(call("null", "lrpc")?["arg_copies"] as? Int == 2 && call("null", "message")?["arg_copies"] as? Int == 4,
                "copies counted the seed's way: LRPC 2, messages 4", missing: "the bench does not report 2 and 4 argument copies")
        if let lrpcNull, let messageNull, let futex3, let relay {
            r.note(String(format: "LRPC null %.1f µs = %.2fx futex3 (%.1f µs); message null %.1f µs = %.2fx relay (%.1f µs)",
                          lrpcNull / 1000, lrpcNull / futex3, futex3 / 1000, messageNull / 1000, messageNull / relay, relay / 1000))
            r.note(String(format: "message / LRPC = %.2fx; relay / futex3 = %.2fx: the transports differ about as much as their floors",
                          messageNull / lrpcNull, relay / futex3))
            let big = median(call("bigInOut", "lrpc"))
            if let big { r.note(String(format: "LRPC BigInOut (200 bytes each way) %.1f µs against Null %.1f µs", big / 1000, lrpcNull / 1000)) }
        }
    }

    /// Run a program and return its standard output (it must exit 0 within 10 minutes).
    static func capture(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandFailed("\(arguments.dropFirst().prefix(1).joined()) exited with status \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: lab 5

    func writeAService(_ r: inout LabReport) throws {
        guard let counter = try domain("counter") else {
            return r.check(false, "", missing: "no counter domain: add it to images/lab5.toml and boot that image")
        }
        r.check(counter.state == "ready", "the counter domain is ready (pid \(counter.pid))", missing: "counter is \(counter.state)")
        r.check(counter.exports == [CounterInterface.name], "it exports the counter interface", missing: "it exports \(counter.exports)")
        r.check(!counter.sandbox.isEmpty, "it runs in a sandbox: \(counter.sandbox.keys.sorted().joined(separator: ", "))",
                missing: "its sandbox is not reported")
        let binding: ClientBinding
        do { binding = try runtime.importInterface(CounterInterface.name) } catch {
            return r.check(false, "", missing: "nkctl cannot import counter (is it under [operator] imports?): \(error)")
        }
        binding.callTimeoutSeconds = 10
        let start = try binding.call(CounterInterface.total, Empty())
        let first = try binding.call(CounterInterface.add, 5)
        let second = try binding.call(CounterInterface.add, 7)
        r.check(first == start + 5 && second == start + 12, "add keeps a running total (\(start) + 5 + 7 = \(second))",
                missing: "add returned \(first) then \(second) from a total of \(start)")
        r.check(try binding.call(CounterInterface.total, Empty()) == second, "total returns the running total",
                missing: "total does not match the last add")
        var overflow: CallError?
        do { _ = try binding.call(CounterInterface.add, Int64.max) } catch { overflow = error }
        if case .procedureFailed(let why) = overflow {
            r.check(true, "an overflowing add fails with the service's own error: \(why)", missing: "")
        } else {
            r.check(false, "", missing: "adding Int64.max must fail as a procedure failure, not overflow silently: \(overflow.map { "\($0)" } ?? "it succeeded")")
        }
        var forged = binding.bindingObject
        forged.secret ^= 1
        var refused: CallError?
        do { try binding.trap(procedureID: CounterInterface.add.id, slot: 0, bindingObject: forged) } catch { refused = error }
        r.check(refused == .refused(.forgedBindingObject), "the kernel protects it like any service: a forged binding object is refused",
                missing: "a forged trap on counter: \(refused.map { "\($0)" } ?? "accepted")")
    }
}

/// How a call made on another thread ended: nil until it did; then nil error = success.
final class CallOutcome: @unchecked Sendable {
    private let monitor = Monitor()
    private var ended: CallError?? = nil

    func finish(_ error: CallError?) {
        monitor.locked { ended = .some(error) }
        monitor.broadcast()
    }

    func wait(seconds: Double) -> CallError?? { monitor.wait(seconds: seconds) { ended } }
}
