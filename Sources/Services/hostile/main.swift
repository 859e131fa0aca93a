// nk-hostile: a test-only service that attacks from inside its own domain (see
// Tests/NanoKernelTests/HostileServiceTests.swift). Not part of the default image.
//
// It imports clock, so it has what any client has to abuse: a trap page, a binding
// object, an A-stack memfd. As the server of "hostile" it also shares call records
// with the kernel. The attacks on system calls are in C (CHostile); the ones on the
// call trap use the client stub's public trap().
import CHostile
import Glibc
import Interfaces
import KernelFuzz
import LRPC
import SystemPackage

// Test-only, outside any kernel (inflight.c): the per-user count of descriptors in
// flight, filled as a domain's host uid.
if CommandLine.arguments.count == 3, CommandLine.arguments[1] == "--hold-in-flight", let id = UInt32(CommandLine.arguments[2]) {
    exit(nk_hold_in_flight(id))
}

final class Attacker: @unchecked Sendable {
    var runtime: DomainRuntime?
    var clock: ClientBinding?
    var ownSlots: UInt32 = 1
    /// A second handle on the control channel (fd 3), to send what the runtime never
    /// would. Kept for the life of the process: its deinit would close fd 3.
    lazy var channel = ControlChannel(fd: FileDescriptor(rawValue: DomainRuntime.controlDescriptor))

    func run(_ order: AttackOrder) -> AttackOutcome {
        guard let clock else { return AttackOutcome(errno: ENOTCONN, detail: "no clock binding") }
        logError("hostile: attack \(order.name)")
        let own = clock.bindingObject
        switch order.name {
        case "forged-bo":
            var forged = own
            forged.secret ^= 0x5a5a_5a5a_5a5a_5a5a
            var invented = own
            invented.index = 4_000_000
            return both(trap(clock, forged), trap(clock, invented))
        case "stale-bo", "foreign-bo":
            return trap(clock, order.bindingObject)
        case "trap-flood":
            // As many forged traps as the test asks for, as fast as the kernel refuses them.
            var forged = own
            forged.secret ^= 1
            let count = max(1, min(order.target, 1_000_000))
            let start = monotonicNanoseconds()
            var accepted = 0
            for _ in 0..<count where trap(clock, forged).errno == 0 { accepted += 1 }
            let milliseconds = (monotonicNanoseconds() - start) / 1_000_000
            guard accepted == 0 else { return AttackOutcome(errno: 0, detail: "\(accepted) of \(count) forged traps accepted") }
            return AttackOutcome(errno: EACCES, detail: "\(count) forged traps refused in \(milliseconds) ms")
        case "bad-procedure":
            return both(trap(clock, own, procedure: 99), trap(clock, own, procedure: UInt32.max))
        case "bad-slot":
            return both(trap(clock, own, slot: clock.interface.astackGeometry.slotCount), trap(clock, own, slot: 1 << 20))
        case "export-clock", "import-bench", "admin-shutdown", "hello-again", "accept-unoffered-binding",
             "refuse-others-bindings", "export-huge-layout", "empty-frame":
            return controlAttack(order)
        case "import-and-leave", "import-flood", "hostile-strings", "refused-import-flood":
            return kernelIntegrityAttack(order)
        case "fuzz-control":
            return fuzzControl(seed: UInt64(bitPattern: order.target), count: max(1, min(Int(order.path) ?? 32, 100_000)))
        default:
            guard let astacks = clock.astacks else {
                return AttackOutcome(errno: ENOTSUP, detail: "the clock binding has no A-stacks (message transport)")
            }
            return runInC(order, clock, astacks)
        }
    }

    private func runInC(_ order: AttackOrder, _ clock: ClientBinding, _ astacks: AStackRegion) -> AttackOutcome {
        var env = nk_attack_env()
        env.target = order.target
        env.astack_fd = astacks.region.fd.rawValue
        env.astack_base = astacks.region.base
        env.astack_size = astacks.region.size
        env.astack_stride = astacks.geometry.stride
        env.astack_slots = UInt32(astacks.geometry.slotCount)
        env.bo_index = clock.bindingObject.index
        env.bo_generation = clock.bindingObject.generation
        env.bo_secret = clock.bindingObject.secret
        env.own_slots = ownSlots
        var result = nk_attack_result()
        let known = order.path.withCString { path in
            env.path = path
            return nk_attack_run(order.name, &env, &result)
        }
        guard known == 0 else { return AttackOutcome(errno: EINVAL, detail: "no attack named '\(order.name)'") }
        let detail = withUnsafeBytes(of: result.detail) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return AttackOutcome(errno: result.error, detail: detail)
    }

    /// Attacks on the control plane: claim what the image does not give, speak for the
    /// operator, break the protocol.
    private func controlAttack(_ order: AttackOrder) -> AttackOutcome {
        guard let runtime else { return AttackOutcome(errno: ENOTCONN, detail: "no runtime") }
        do {
            switch order.name {
            case "export-clock":
                // Export the clock interface, to be bound in clock's place.
                let fake = Service(interface: ClockInterface.name)
                fake.handle(ClockInterface.now) { _, _ in Timestamp(seconds: 0, nanoseconds: 0) }
                try runtime.export(fake)
                return AttackOutcome(errno: 0, detail: "exported clock")
            case "import-bench":
                _ = try runtime.importInterface(BenchInterface.name)
                return AttackOutcome(errno: 0, detail: "imported bench")
            case "admin-shutdown":
                // What `nkctl shutdown` sends, from a service's channel.
                try channel.send(.admin(request: 4_000_000, command: "shutdown", argument: ""))
            case "empty-frame":
                // A message of no bytes, which a plain recv cannot tell from a hang-up.
                _ = try channel.send(encoded: [], descriptors: [], expected: 0)
            case "hello-again":
                try channel.send(.hello(domainName: "kernel"))
            case "refuse-others-bindings":
                // Refuse, in the name of their servers, every binding the kernel may be offering.
                for index in 0..<UInt32(256) { try channel.send(.bindRefused(binding: index, reason: "hijacked")) }
            case "export-huge-layout":
                // A procedure list whose field capacity would overflow whoever sizes it
                // (the kernel, or nkctl when it imports the interface).
                // Its name carries escape sequences, for whoever shows the refusal.
                let huge = ProcedureDescriptor(
                    id: 9, name: "huge\u{1b}]0;owned\u{07}\u{9b}2J", astackSize: 64, simultaneousCalls: 1,
                    arguments: FieldLayout([Field("x", .text, capacity: Int.max)]), results: .empty)
                try channel.send(.export(InterfaceDescriptor(name: HostileInterface.name, procedures: [huge])))
            default:  // accept-unoffered-binding: claim the binding index the test names
                try channel.send(.bindAccepted(binding: UInt32(truncatingIfNeeded: order.target)))
            }
            // The kernel's answer to these is to cut the channel and kill the domain.
            sleep(10)
            return AttackOutcome(errno: 0, detail: "still connected 10 s after \(order.name)")
        } catch {
            return AttackOutcome(errno: EACCES, detail: "\(error)")
        }
    }

    /// Attacks on the kernel's integrity (issue 7): leave mid-bind, exhaust
    /// a server through imports, smuggle hostile strings, flood refused requests.
    private func kernelIntegrityAttack(_ order: AttackOrder) -> AttackOutcome {
        guard let runtime else { return AttackOutcome(errno: ENOTCONN, detail: "no runtime") }
        switch order.name {
        case "import-and-leave":
            // Ask for a binding to clock, then die before clock's answer arrives.
            try? channel.send(.importInterface(request: 4_000_001, name: ClockInterface.name, transport: nil, waitMilliseconds: 10_000))
            _exit(0)
        case "import-flood":
            // Import clock as often as the test asks and hold every binding.
            var held: [ClientBinding] = []
            for _ in 0..<max(1, min(order.target, 1_000)) {
                do { held.append(try runtime.importInterface(ClockInterface.name, timeoutSeconds: 5)) } catch {
                    return AttackOutcome(errno: EDQUOT, detail: "imported \(held.count) more; then: \(error)")
                }
            }
            return AttackOutcome(errno: 0, detail: "imported clock \(held.count) more times")
        case "hostile-strings":
            // A newline that would forge a kernel log line, and names far too long.
            let forged = "x\n[0.000001] kernel: forged by hostile"
            let long = String(repeating: "n", count: 65_000)
            do {
                try channel.send(.importInterface(request: 4_000_002, name: forged, transport: nil, waitMilliseconds: 10_000))
                try channel.send(.importInterface(request: 4_000_003, name: long, transport: nil, waitMilliseconds: 10_000))
                try channel.send(.importInterface(request: 4_000_004, name: "bench\u{1b}[2J", transport: nil, waitMilliseconds: 10_000))
                let fake = InterfaceDescriptor(name: long, procedures: HostileInterface.all)
                try channel.send(.export(fake))
                let badProcedure = ProcedureDescriptor(id: 9, name: "p\n[0.000001] kernel: forged", astackSize: 8,
                                                       simultaneousCalls: 1, arguments: FieldLayout([]), results: FieldLayout([]))
                try channel.send(.export(InterfaceDescriptor(name: HostileInterface.name, procedures: [badProcedure])))
            } catch {
                return AttackOutcome(errno: EIO, detail: "\(error)")
            }
            return AttackOutcome(errno: 0, detail: "sent")
        default:  // refused-import-flood: requests the image refuses, far faster than the log rate
            let count = max(1, min(order.target, 1_000_000))
            for i in 0..<count {
                // Pause now and then so this domain's own runtime keeps reading the kernel's
                // refusals: one that lets them pile up is cut off (ControlPlaneStallTests).
                if i % 100 == 99 { usleep(2_000) }
                do {
                    try channel.send(.importInterface(request: 5_000_000 + UInt32(i % 1_000_000), name: BenchInterface.name, transport: nil, waitMilliseconds: 10_000))
                } catch {
                    usleep(1_000)  // the channel is full: the kernel reads at its own pace
                }
            }
            return AttackOutcome(errno: 0, detail: "sent \(count) refused imports")
        }
    }

    /// Seeded control frames from a service's own channel (KernelFuzz), each logged
    /// before it is sent, so the kernel's answer can be matched to what provoked it. The
    /// kernel may cut this domain off at any frame; then this call never returns.
    private func fuzzControl(seed: UInt64, count: Int) -> AttackOutcome {
        var fuzzer = ControlFrameFuzzer(seed: seed)
        if let clock { fuzzer.ownBindings = [clock.bindingObject] }
        var sent = 0
        for n in 0..<count {
            let frame = fuzzer.next()
            logError("hostile: fuzz seed \(seed) frame \(n): \(frame.summary)")
            // Descriptors that ride along: its own stderr, as often as the frame says (the
            // sandbox refuses dup, and SCM_RIGHTS may carry one descriptor many times).
            let fds = [FileDescriptor](repeating: FileDescriptor(rawValue: 2), count: frame.descriptors)
            do {
                guard try channel.send(encoded: frame.bytes, descriptors: fds, expected: fds.count) else { break }
            } catch let error as SystemError where error.errno == .messageTooLong {
                continue  // the socket itself refused the size: nothing reached the kernel
            } catch {
                return AttackOutcome(errno: EPIPE, detail: "sent \(sent) frames, then: \(error)")
            }
            sent += 1
        }
        usleep(500_000)  // let the kernel read them all before answering
        return AttackOutcome(errno: 0, detail: "sent \(sent) frames (seed \(seed)) and was not cut off")
    }

    /// A trap the kernel must refuse: EACCES and the refusal, or 0 if it was accepted.
    private func trap(_ clock: ClientBinding, _ bo: BindingObject, procedure: UInt32 = ClockInterface.now.id,
                      slot: Int = 0) -> AttackOutcome {
        do {
            try clock.trap(procedureID: procedure, slot: slot, bindingObject: bo)
            return AttackOutcome(errno: 0, detail: "the kernel accepted procedure \(procedure) on slot \(slot)")
        } catch .refused(let refusal) {
            return AttackOutcome(errno: EACCES, detail: "refused(\(Self.name(of: refusal))): \(refusal)")
        } catch {
            return AttackOutcome(errno: EIO, detail: "\(error)")
        }
    }

    /// Both must fail; the first that got through wins.
    private func both(_ a: AttackOutcome, _ b: AttackOutcome) -> AttackOutcome {
        if a.errno == 0 { return a }
        if b.errno == 0 { return b }
        return AttackOutcome(errno: a.errno, detail: a.detail + "; " + b.detail)
    }

    static func name(of refusal: Refusal) -> String {
        switch refusal {
        case .forgedBindingObject: "forgedBindingObject"
        case .staleBindingObject: "staleBindingObject"
        case .foreignBindingObject: "foreignBindingObject"
        case .unknownProcedure: "unknownProcedure"
        case .slotOutOfRange: "slotOutOfRange"
        case .slotInUse: "slotInUse"
        case .malformedTrap: "malformedTrap"
        }
    }
}

let attacker = Attacker()
// `nk-hostile NAME` serves the same procedures under another interface name (the resource
// test runs many of them side by side).
let service = Service(interface: CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : HostileInterface.name)
/// What a hostile result or error would do to an operator's terminal printed raw: set the
/// window title, clear the screen, forge a line of nkctl's own (C0, C1 CSI, bidi override).
let terminalEscapes = "\u{1b}]0;owned\u{07}\u{1b}[2J\u{9b}31m\u{202e}\nnkctl: kernel stopped"
service.handle(HostileInterface.attack) { order, _ in
    switch order.name {
    case "terminal-escapes": return AttackOutcome(errno: 0, detail: terminalEscapes)
    case "terminal-escapes-error": throw ProcedureFailure(terminalEscapes)
    default: return attacker.run(order)
    }
}
service.handle(HostileInterface.ping) { _, _ in Int64(getpid()) }
attacker.ownSlots = UInt32(service.interface.astackGeometry.slotCount)
ServiceMain.run(service) { runtime in
    attacker.runtime = runtime
    attacker.clock = try runtime.importInterface(ClockInterface.name)
}
