// ControlFrameFuzzer: control-channel frames a domain could send the kernel, from one
// seed. Each is one packet: random bytes, a real tag with a garbage body, a real message
// truncated, bit-flipped or with an edge value spliced in, a message over the channel's
// size, descriptors riding on a message that takes none, and well-formed messages out of
// order (bind replies for nothing, releases of bindings not its own, twice, hello again).
import Glibc
import Interfaces
import LRPC

public struct ControlFrame: Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        case randomBytes, tagWithGarbage, truncated, bitFlipped, splicedEdge, oversized, strayDescriptors, outOfOrder, adminRequest
    }
    public let kind: Kind
    public let bytes: [UInt8]
    /// How many descriptors (opened by the sender, closed after sending) ride along.
    public var descriptors = 0

    public var summary: String {
        "\(kind.rawValue) \(bytes.count) bytes\(descriptors > 0 ? " + \(descriptors) fds" : ""): "
            + bytes.prefix(24).map { String($0, radix: 16) }.joined(separator: " ")
    }
}

public struct ControlFrameFuzzer {
    public var random: FuzzRandom
    /// Binding objects this domain holds or held (from `imported`), for releases.
    public var ownBindings: [BindingObject] = []

    public init(seed: UInt64) { random = FuzzRandom(seed: seed) }

    /// Real messages of every tag, both directions, to mutate.
    public var templates: [ControlMessage] {
        let clock = InterfaceDescriptor(name: ClockInterface.name, procedures: ClockInterface.all)
        let hostile = InterfaceDescriptor(name: HostileInterface.name, procedures: HostileInterface.all)
        let bo = ownBindings.last ?? BindingObject(index: 1, generation: 1, secret: 0x1234)
        return [
            .hello(domainName: "fuzz"), .export(hostile), .export(clock),
            .importInterface(request: 7, name: ClockInterface.name, transport: nil, waitMilliseconds: 100),
            .importInterface(request: 8, name: BenchInterface.name, transport: .message, waitMilliseconds: 0),
            .ready, .bindAccepted(binding: bo.index), .bindRefused(binding: bo.index, reason: "no"),
            .admin(request: 9, command: "status", argument: ""), .admin(request: 10, command: "bindings", argument: "from=0"),
            .release(binding: bo),
            .welcome(domainID: 1, domainName: "x"), .exported(interface: "clock"),
            .imported(request: 1, binding: bo, geometry: AStackGeometry(slotCount: 2, payloadCapacity: 64), interface: clock,
                      transport: .lrpc, callDeadlineMilliseconds: 10),
            .bind(binding: 1, client: 2, clientName: "c", interface: "clock", geometry: AStackGeometry(slotCount: 1, payloadCapacity: 8),
                  transport: .message),
            .unbind(binding: 1), .failed(request: 1, message: "m"), .adminReply(request: 1, body: "{}"),
            .tune(policy: "placement=scheduler,spin=0"), .registerAgain, .revoked(binding: bo, reason: "r"), .stop,
            .domainEnded(domainID: 3, name: "clock", returning: false),
        ]
    }

    public mutating func next() -> ControlFrame {
        let kind = random.pick(ControlFrame.Kind.allCases)
        switch kind {
        case .randomBytes:
            return ControlFrame(kind: kind, bytes: random.bytes(random.below(random.chance(80) ? 64 : 4096)))
        case .tagWithGarbage:
            let tag = random.chance(80) ? random.pick(ControlTag.allCases).rawValue : UInt8(truncatingIfNeeded: random.next())
            return ControlFrame(kind: kind, bytes: [tag] + garbageBody())
        case .truncated:
            let whole = random.pick(templates).encoded()
            return ControlFrame(kind: kind, bytes: Array(whole.prefix(random.below(whole.count))))
        case .bitFlipped:
            var bytes = random.pick(templates).encoded()
            for _ in 0..<(1 + random.below(8)) {
                let at = random.below(bytes.count)
                bytes[at] ^= 1 << UInt8(random.below(8))
            }
            return ControlFrame(kind: kind, bytes: bytes)
        case .splicedEdge:
            var bytes = random.pick(templates).encoded()
            let at = random.below(bytes.count)
            withUnsafeBytes(of: random.edgeWord().littleEndian) { word in
                for (i, b) in word.enumerated() where at + i < bytes.count { bytes[at + i] = b }
            }
            return ControlFrame(kind: kind, bytes: bytes)
        case .oversized:
            let size = random.pick([ControlChannel.maximumMessage - 1, ControlChannel.maximumMessage, ControlChannel.maximumMessage + 1,
                                    ControlChannel.maximumMessage * 2])
            var bytes = [UInt8](repeating: 0x41, count: size)
            bytes[0] = random.pick(ControlTag.allCases).rawValue
            return ControlFrame(kind: kind, bytes: bytes)
        case .strayDescriptors:
            return ControlFrame(kind: kind, bytes: random.pick(templates).encoded(), descriptors: 1 + random.below(8))
        case .outOfOrder:
            return ControlFrame(kind: kind, bytes: outOfOrder().encoded())
        case .adminRequest:
            return ControlFrame(kind: kind, bytes: adminRequest().encoded())
        }
    }

    /// A body of fields that each look plausible on their own: lengths, edge words, text.
    private mutating func garbageBody() -> [UInt8] {
        var body: [UInt8] = []
        for _ in 0..<random.below(12) {
            switch random.below(4) {
            case 0: withUnsafeBytes(of: random.edgeWord().littleEndian) { body += $0 }
            case 1: body += random.bytes(random.below(16))
            case 2:
                let text = Array(random.hostileString().utf8)
                withUnsafeBytes(of: UInt32(text.count).littleEndian) { body += $0 }
                body += text
            default: withUnsafeBytes(of: random.next().littleEndian) { body += $0 }
            }
        }
        return body
    }

    /// An operator request with arguments nearly right or wrong. Never `shutdown`, and
    /// the service commands never name a service: the fuzzer may not stop the kernel or
    /// its services by asking politely.
    private mutating func adminRequest() -> ControlMessage {
        let request = UInt32(truncatingIfNeeded: random.next())
        let edge = String(random.edgeWord())
        switch random.below(7) {
        case 0: return .admin(request: request, command: "bindings", argument: random.pick(["from=\(edge)", "from=-1", "from=", edge, random.hostileString()]))
        case 1: return .admin(request: request, command: "trace", argument: random.pick(["from=\(edge)", "from=18446744073709551616", "from=x", "on", "off", "", random.hostileString()]))
        case 2:
            let placement = random.pick(Placement.allCases.map(\.rawValue) + ["", "nowhere"])
            return .admin(request: request, command: "tune", argument: random.pick([
                "placement=\(placement),spin=\(edge)", "spin=\(edge)", "spin=-1", "placement=\(placement)", "spin", "=", ",,", random.hostileString()]))
        case 3:
            return .admin(request: request, command: random.pick(["kill", "stop", "start", "restart"]),
                          argument: notAService(random.pick(["", " ", "nosuch", "clock\u{0}", "CLOCK", " clock", random.hostileString()])))
        case 4: return .admin(request: request, command: random.pick(["status", "log"]), argument: random.hostileString())
        default: return .admin(request: request, command: random.hostileString(), argument: random.hostileString())
        }
    }

    private func notAService(_ argument: String) -> String {
        let first = argument.split(separator: " ").first.map(String.init) ?? ""
        return ["name", "clock", "bench", "hostile"].contains(first) ? "not-" + argument : argument
    }

    /// A well-formed message the kernel did not ask for, or about what is not the sender's.
    private mutating func outOfOrder() -> ControlMessage {
        let own = ownBindings.isEmpty ? nil : random.pick(ownBindings)
        var other = own ?? BindingObject(index: UInt32(random.below(64)), generation: 1, secret: random.next())
        other.index = random.chance(50) ? UInt32(random.below(64)) : random.edgeWord()
        other.generation = random.chance(50) ? other.generation : random.edgeWord()
        switch random.below(9) {
        case 0: return .hello(domainName: random.hostileString())
        case 1: return .ready
        case 2: return .bindAccepted(binding: random.chance(50) ? UInt32(random.below(64)) : random.edgeWord())
        case 3: return .bindRefused(binding: UInt32(random.below(64)), reason: random.hostileString(maximum: 70_000))
        case 4: return .release(binding: own ?? other)  // its own, perhaps again
        case 5: return .release(binding: other)
        case 6:
            return .importInterface(request: UInt32(truncatingIfNeeded: random.next()),
                                    name: random.chance(50) ? random.pick([ClockInterface.name, BenchInterface.name, NameInterface.name, HostileInterface.name]) : random.hostileString(),
                                    transport: random.pick([nil, .lrpc, .message]), waitMilliseconds: random.edgeWord())
        case 7:
            let procedures = (0..<random.below(4)).map { _ in
                ProcedureDescriptor(id: UInt32(random.below(4)), name: random.hostileString(maximum: 80), astackSize: random.below(4096),
                                    simultaneousCalls: 1 + random.below(64), arguments: .empty, results: .empty)
            }
            return .export(InterfaceDescriptor(name: random.pick([HostileInterface.name, ClockInterface.name, random.hostileString()]),
                                               procedures: procedures))
        default:
            return .admin(request: UInt32(truncatingIfNeeded: random.next()), command: random.pick(["status", "bindings", "log", "trace"]),
                          argument: random.hostileString())
        }
    }
}
