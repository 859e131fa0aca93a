// The kernel's binding decisions without processes: a BindingManager and a DomainTable
// driven directly, each domain a record whose control channel is one end of a socket
// pair the test reads. Only the parties of a binding act on it; a domain that leaves
// takes its bindings and offers with it; nothing it caused stays behind.
@testable import NanoKernel
import BootImage
import LRPC
import SystemPackage
import XCTest

final class BindingManagerTests: XCTestCase {
    private var log: KernelLog!
    private var table: DomainTable!
    private var bindings: BindingManager!
    /// The domains' ends of their control channels, by domain id.
    private var peers: [UInt32: ControlChannel] = [:]
    private let image = BootImage(
        path: "test.toml", name: "test",
        services: [BindingManagerTests.entry("clock", provides: ["clock"]), BindingManagerTests.entry("hostile", provides: ["hostile"])],
        operatorImports: ["clock", "hostile"])

    private static func entry(_ name: String, provides: [String]) -> ServiceEntry {
        var e = ServiceEntry(name: name, executable: "nk-\(name)")
        e.provides = provides
        return e
    }

    override func setUp() {
        log = KernelLog()
        bindings = BindingManager(image: image, log: log)
        table = DomainTable(launcher: nil, bindingTable: bindings.table, log: log, trace: CallTrace())
    }

    override func tearDown() {
        for domain in Array(table.all) { bindings.revokeAll(of: domain, reason: "test over"); table.forget(domain) }
        peers.removeAll()
    }

    /// A domain record on a socket pair; `entry` nil: an operator client.
    private func domain(_ name: String, entry: ServiceEntry? = nil) throws -> KernelDomain {
        let (channel, peerEnd) = try ControlChannel.pair()
        let d = try table.admit(kind: entry == nil ? .operator : .service, entry: entry, channel: channel, name: name, pid: 0)
        peers[d.id] = ControlChannel(fd: peerEnd)
        return d
    }

    private func next(_ d: KernelDomain) throws -> ControlMessage {
        let (message, fds) = try XCTUnwrap(try peers[d.id]!.receive())
        fds.forEach { try? $0.close() }
        return message
    }

    private let clock = InterfaceDescriptor(name: "clock", procedures: [
        ProcedureDescriptor(id: 0, name: "now", astackSize: 8, simultaneousCalls: 2,
                            arguments: FieldLayout(signature: "")!, results: FieldLayout(signature: "nanoseconds:u64")!),
    ])

    private let hostile = InterfaceDescriptor(name: "hostile", procedures: [
        ProcedureDescriptor(id: 0, name: "null", astackSize: 8, simultaneousCalls: 1,
                            arguments: FieldLayout(signature: "")!, results: FieldLayout(signature: "")!),
    ])

    /// Export clock from `server`, import it from `client`: the server is offered binding N.
    private func offer(server: KernelDomain, client: KernelDomain) throws -> UInt32 {
        bindings.export(clock, from: server)
        XCTAssertEqual(try next(server), .exported(interface: "clock"))
        bindings.importInterface("clock", for: client, request: 7, transport: .lrpc)
        guard case .bind(let index, let clientID, _, "clock", _, .lrpc) = try next(server) else {
            XCTFail("the server was not offered the binding")
            return 0
        }
        XCTAssertEqual(clientID, client.id)
        return index
    }

    func testOnlyTheOfferedServerAnswersABind() throws {
        let server = try domain("clock", entry: image.services[0])
        let hostile = try domain("hostile", entry: image.services[1])
        let client = try domain("op")
        let index = try offer(server: server, client: client)

        XCTAssertNotNil(bindings.bindRefused(index, by: hostile, reason: "hijack"), "the sender is cut off")
        XCTAssertNotNil(bindings.bindAccepted(index, by: hostile))
        XCTAssertEqual(hostile.refusals.loadRelaxed(), 2, "the hijack attempts are counted against the sender")
        XCTAssertNotNil(bindings.pending[index], "the offer survives a foreign reply")

        XCTAssertNil(bindings.bindAccepted(index, by: server))
        guard case .imported(7, let bo, _, _, .lrpc, _) = try next(client) else { return XCTFail("client not bound") }
        XCTAssertEqual(bo.index, index)
        XCTAssertEqual(server.refusals.loadRelaxed(), 0, "the honest server is untouched")
        XCTAssertNotNil(bindings.live[index])
    }

    func testOnlyTheClientReleasesItsBinding() throws {
        let server = try domain("clock", entry: image.services[0])
        let client = try domain("op")
        let other = try domain("other")
        let index = try offer(server: server, client: client)
        XCTAssertNil(bindings.bindAccepted(index, by: server))
        guard case .imported(_, let bo, _, _, _, _) = try next(client) else { return XCTFail("client not bound") }

        bindings.release(bo, by: other)
        XCTAssertNotNil(bindings.live[index], "another domain cannot release it")
        XCTAssertEqual(other.refusals.loadRelaxed(), 1)
        var wrongGeneration = bo
        wrongGeneration.generation &+= 1
        bindings.release(wrongGeneration, by: client)
        XCTAssertNotNil(bindings.live[index], "a release must name the whole binding object")
        XCTAssertEqual(client.refusals.loadRelaxed(), 1, "a forged release is counted")
        bindings.release(bo, by: client)
        XCTAssertNil(bindings.live[index])
        XCTAssertEqual(try next(server), .unbind(binding: index))
        // A late second release of the same (now stale) object changes nothing and blames no one.
        bindings.release(bo, by: client)
        XCTAssertEqual(client.refusals.loadRelaxed(), 1)
    }

    func testAClientLeavingDuringAPendingBindCancelsItCleanly() throws {
        let server = try domain("clock", entry: image.services[0])
        let client = try domain("op")
        let index = try offer(server: server, client: client)

        bindings.revokeAll(of: client, reason: "client left")
        table.forget(client)
        XCTAssertNil(bindings.pending[index])
        XCTAssertEqual(try next(server), .unbind(binding: index), "the server is told the offer is withdrawn")

        // The server's answer crossed the withdrawal: dropped quietly, the server is not harmed.
        XCTAssertNil(bindings.bindAccepted(index, by: server))
        XCTAssertEqual(server.refusals.loadRelaxed(), 0)
        XCTAssertTrue(server.isAlive)
        XCTAssertTrue(bindings.live.isEmpty)
    }

    /// A server that never answers its offers fills only its own memory of withdrawn
    /// offers: an honest server's late answer to its own withdrawn offer is still
    /// recognised. Before, one shared bound (1024) evicted entries at random once a
    /// silent server had more withdrawn offers than that, and the honest server's late
    /// answer was taken for a forgery and cut it off.
    func testASilentServerCannotMakeAnHonestServersLateAnswerAForgery() throws {
        var roomy = image
        roomy.quotas.pendingBindsPerClient = 10_000
        roomy.quotas.bindingsPerInterface = 10_000
        roomy.quotas.bindingsPerClient = 10_000
        bindings = BindingManager(image: roomy, log: log)
        table = DomainTable(launcher: nil, bindingTable: bindings.table, log: log, trace: CallTrace())
        let server = try domain("clock", entry: image.services[0])
        let silent = try domain("hostile", entry: image.services[1])
        let client = try domain("op")
        let index = try offer(server: server, client: client)
        bindings.revokeAll(of: client, reason: "client left")
        XCTAssertEqual(try next(server), .unbind(binding: index))

        bindings.export(hostile, from: silent)
        XCTAssertEqual(try next(silent), .exported(interface: "hostile"))
        // 6000 offers pending at once (each its own binding index), then all withdrawn.
        let offers = 6_000
        for request in 0..<offers {
            bindings.importInterface("hostile", for: client, request: UInt32(request), transport: .lrpc)
            guard case .bind = try next(silent) else { return XCTFail("request \(request): no offer") }
        }
        XCTAssertEqual(bindings.pending.count, offers)
        // The silent server never answers: every offer expires and is withdrawn. (Its
        // channel overflows and it is marked to be cut off: its own trouble.)
        bindings.expireOffers(now: .max)
        XCTAssertTrue(bindings.pending.isEmpty)
        XCTAssertNil(bindings.bindAccepted(index, by: server), "the honest late answer was taken for a forgery")
        XCTAssertEqual(server.refusals.loadRelaxed(), 0)
    }

    func testImportsInProgressStopAtTheQuota() throws {
        // Nobody exports clock yet: each import waits; the quota (8 by default) bounds them.
        let client = try domain("op")
        for request in 0..<UInt32(8) { bindings.importInterface("clock", for: client, request: request, transport: nil) }
        XCTAssertEqual(bindings.waitingImports.count, 8)
        bindings.importInterface("clock", for: client, request: 99, transport: nil)
        guard case .failed(99, let message) = try next(client) else { return XCTFail("the ninth import was not refused") }
        XCTAssertTrue(message.contains("quota pending_binds_per_client"), message)
        XCTAssertEqual(bindings.waitingImports.count, 8)
    }

    func testARetiredDomainHoldsNoDescriptors() throws {
        let before = openDescriptors()
        for _ in 0..<50 {
            let d = try domain("op")
            try table.startTrapHandler(for: d)
            bindings.revokeAll(of: d, reason: "left")
            table.forget(d)
            peers[d.id] = nil
        }
        // Trap handler threads drop their page when they notice the stop.
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) { self.openDescriptors() <= before + 2 },
                      "descriptors: \(before) before, \(openDescriptors()) after 50 domains came and went")
    }

    private func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
    }
}
