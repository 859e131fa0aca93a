// nk-demo: the teaching image's demonstration (see Interfaces/Demo.swift). Run under the
// name "accomplice" it serves the accomplice interface; under any other name, demo.
// Every demonstration traps from inside this domain, through the client stub's public
// trap(), so `nkctl status` counts the refusals against this domain and `nkctl trace
// --domain demo` shows each one as the kernel saw it.
import Glibc
import Interfaces
import LRPC

// MARK: accomplice

/// Holds A-stack slots on request: a wait runs until its token is released (or times out).
final class Holds: @unchecked Sendable {
    private let monitor = Monitor()
    private var running: Set<UInt32> = []
    private var released: Set<UInt32> = []

    func wait(_ order: HoldOrder) throws {
        guard order.milliseconds <= 60_000 else { throw ProcedureFailure("a wait lasts at most 60000 ms") }
        try monitor.locked {
            guard running.count < 64 else { throw ProcedureFailure("64 waits are running already") }
            running.insert(order.token)
            released.remove(order.token)
        }
        monitor.broadcast()
        _ = monitor.wait(seconds: Double(order.milliseconds) / 1000) { released.contains(order.token) ? true : nil }
        monitor.locked {
            running.remove(order.token)
            released.remove(order.token)
        }
    }

    func release(_ token: UInt32) {
        monitor.locked { if running.contains(token) { released.insert(token) } }
        monitor.broadcast()
    }

    func isHolding(_ token: UInt32) -> UInt32 { monitor.locked { running.contains(token) ? 1 : 0 } }
}

func runAccomplice() -> Never {
    let holds = Holds()
    let service = Service(interface: AccompliceInterface.name)
    nonisolated(unsafe) var clock: ClientBinding?
    service.handle(AccompliceInterface.leak) { _, _ in
        guard let clock else { throw ProcedureFailure("no clock binding yet") }
        return LeakedBindingObject(clock.bindingObject)
    }
    service.handle(AccompliceInterface.wait) { order, _ in try holds.wait(order); return Empty() }
    service.handle(AccompliceInterface.release) { token, _ in holds.release(token); return Empty() }
    service.handle(AccompliceInterface.holding) { token, _ in holds.isHolding(token) }
    ServiceMain.run(service) { runtime in clock = try runtime.importInterface(ClockInterface.name) }
}

// MARK: demo

final class Demonstrations: @unchecked Sendable {
    let runtime: DomainRuntime
    /// Its own clock binding: what it forges from and traps on.
    let clock: ClientBinding
    /// For asking the accomplice (leak, holding, release).
    let accomplice: ClientBinding
    /// Used only by the busy-slot demonstration, under `lock`, one call at a time: its
    /// call always takes slot 0, the lowest free one.
    let busyBinding: ClientBinding
    /// For `hold`: slots held in the background, for `nkctl bindings` to show.
    let holder: ClientBinding
    private let lock = Monitor()
    private var nextToken: UInt32 = 1

    init(runtime: DomainRuntime) throws {
        self.runtime = runtime
        clock = try runtime.importInterface(ClockInterface.name)
        accomplice = try runtime.importInterface(AccompliceInterface.name)
        busyBinding = try runtime.importInterface(AccompliceInterface.name)
        holder = try runtime.importInterface(AccompliceInterface.name)
        for b in [clock, accomplice, busyBinding, holder] { b.callTimeoutSeconds = 15 }
    }

    /// Trap and report what the kernel said.
    private func attempt(_ tried: String, on binding: ClientBinding, procedure: UInt32 = 0, slot: Int = 0,
                         bindingObject: BindingObject? = nil) -> DemoOutcome {
        do {
            try binding.trap(procedureID: procedure, slot: slot, bindingObject: bindingObject ?? binding.bindingObject)
            return DemoOutcome(refusal: 0, report: "tried: \(tried). The kernel ACCEPTED it: that would be a hole")
        } catch .refused(let refusal) {
            return DemoOutcome(refusal: refusal.rawValue, report: "tried: \(tried). The kernel refused: \(refusal)")
        } catch {
            return DemoOutcome(refusal: 0, report: "tried: \(tried). The call failed otherwise: \(error)")
        }
    }

    func forge() -> DemoOutcome {
        var forged = clock.bindingObject
        forged.secret ^= 0x5a5a_5a5a_5a5a_5a5a
        return lock.locked {
            attempt("its own clock binding object with the secret changed (index \(forged.index), generation \(forged.generation))",
                    on: clock, bindingObject: forged)
        }
    }

    func replay() throws -> DemoOutcome {
        try lock.locked {
            var old: ClientBinding? = try runtime.importInterface(ClockInterface.name)
            let replayed = old!.bindingObject
            // Dropping the binding releases it (a message on the control channel); the
            // kernel answers the next request on the same channel only after it handled
            // the release, so once this import returns the binding object is stale.
            old = nil
            let fence = try runtime.importInterface(ClockInterface.name)
            defer { _ = fence }
            return attempt("binding \(replayed.index) generation \(replayed.generation) again after releasing it", on: clock,
                           bindingObject: replayed)
        }
    }

    func swap() throws -> DemoOutcome {
        let leaked = try accomplice.call(AccompliceInterface.leak, Empty()).bindingObject
        return lock.locked {
            attempt("the accomplice's clock binding object (index \(leaked.index), leaked to it by the accomplice)", on: clock,
                    bindingObject: leaked)
        }
    }

    func busy() throws -> DemoOutcome {
        try lock.locked {
            let token = takeToken()
            // The wait takes slot 0 of busyBinding (nothing else uses it) and the
            // accomplice keeps it until released.
            let done = Monitor()
            nonisolated(unsafe) var finished = false
            try OSThread.spawn(name: "demo-busy") { [busyBinding] in
                _ = try? busyBinding.call(AccompliceInterface.wait, HoldOrder(token: token, milliseconds: 10_000))
                done.locked { finished = true }
                done.broadcast()
            }
            defer {
                _ = try? accomplice.call(AccompliceInterface.release, token)
                _ = done.wait(seconds: 11) { finished ? true : nil }
            }
            for _ in 0..<500 where try accomplice.call(AccompliceInterface.holding, token) == 0 { usleep(10_000) }
            guard try accomplice.call(AccompliceInterface.holding, token) == 1 else {
                throw ProcedureFailure("the accomplice did not start holding slot 0 within 5 s")
            }
            return attempt("slot 0 of binding \(busyBinding.bindingObject.index) while its own call is running on it", on: busyBinding,
                           procedure: AccompliceInterface.holding.id, slot: 0)
        }
    }

    func badProcedure() -> DemoOutcome {
        lock.locked { attempt("procedure id 99 on its clock binding (clock has 3 procedures)", on: clock, procedure: 99) }
    }

    func badSlot() -> DemoOutcome {
        let slots = clock.astacks?.geometry.slotCount ?? 0
        return lock.locked { attempt("A-stack slot \(slots) of its clock binding (it has slots 0-\(slots - 1))", on: clock, slot: slots) }
    }

    func hold(seconds: UInt32) throws -> DemoOutcome {
        guard (1...60).contains(seconds) else { throw ProcedureFailure("hold takes 1 to 60 seconds") }
        let token = lock.locked { takeToken() }
        try OSThread.spawn(name: "demo-hold") { [holder] in
            _ = try? holder.call(AccompliceInterface.wait, HoldOrder(token: token, milliseconds: seconds * 1000))
        }
        return DemoOutcome(refusal: 0, report: "holding an A-stack slot of binding \(holder.bindingObject.index) (demo → accomplice) "
                           + "for \(seconds) s: `nkctl bindings` shows it in use")
    }

    private func takeToken() -> UInt32 {
        defer { nextToken &+= 1 }
        return nextToken
    }
}

/// The demonstrations, once the domain has its bindings (set before it is ready).
final class DemoHolder: @unchecked Sendable {
    private let monitor = Monitor()
    private var demos: Demonstrations?

    func set(_ d: Demonstrations) { monitor.locked { demos = d } }

    func get() throws -> Demonstrations {
        guard let d = monitor.locked({ demos }) else { throw ProcedureFailure("the demonstrations are not ready yet") }
        return d
    }
}

func runDemo() -> Never {
    let service = Service(interface: DemoInterface.name)
    let holder = DemoHolder()
    service.handle(DemoInterface.forge) { _, _ in try holder.get().forge() }
    service.handle(DemoInterface.replay) { _, _ in try holder.get().replay() }
    service.handle(DemoInterface.swap) { _, _ in try holder.get().swap() }
    service.handle(DemoInterface.busy) { _, _ in try holder.get().busy() }
    service.handle(DemoInterface.badProcedure) { _, _ in try holder.get().badProcedure() }
    service.handle(DemoInterface.badSlot) { _, _ in try holder.get().badSlot() }
    service.handle(DemoInterface.hold) { seconds, _ in try holder.get().hold(seconds: seconds) }
    ServiceMain.run(service) { runtime in holder.set(try Demonstrations(runtime: runtime)) }
}

let name = getenv("NK_DOMAIN_NAME").map { String(cString: $0) } ?? ""
if name == AccompliceInterface.name { runAccomplice() } else { runDemo() }
