// The DomainTable without processes: a record on a socket pair is retired in one step
// (handler, channel, trap page, queued messages) and forgotten in another. Restart
// decisions are the RestartSupervisor's (RestartSupervisorTests).
@testable import NanoKernel
import BootImage
import LRPC
import XCTest

final class DomainTableTests: XCTestCase {
    private let log = KernelLog()
    private lazy var table = DomainTable(launcher: nil, bindingTable: BindingTable(), log: log, trace: CallTrace())

    private func service(_ policy: RestartPolicy, state: DomainState, restarts: Int = 0) throws -> KernelDomain {
        var entry = ServiceEntry(name: "clock", executable: "nk-clock")
        entry.restart = policy
        let (channel, peer) = try ControlChannel.pair()
        try peer.close()
        let domain = try table.admit(kind: .service, entry: entry, channel: channel, name: "clock", pid: 0)
        domain.state = state
        domain.restarts = restarts
        return domain
    }

    func testRetireReleasesEverythingAndForgetDropsTheRecord() throws {
        let domain = try service(.never, state: .ready)
        try table.startTrapHandler(for: domain)
        domain.send(.registerAgain, log: log)
        table.retire(domain)
        XCTAssertNil(domain.channel)
        XCTAssertNil(domain.trapPage)
        XCTAssertFalse(domain.channelOpen)
        XCTAssertFalse(domain.hasQueuedMessages)
        XCTAssertNotNil(table[domain.id], "the record stays for status until forgotten")
        table.forget(domain)
        XCTAssertNil(table[domain.id])
    }

    /// Every domain that leaves (each nkctl command is one) passes through the trace, on
    /// or off; it must keep nothing of it after.
    func testTheTraceKeepsNoCursorOfADomainThatLeft() throws {
        let trace = CallTrace()
        let page = TrapPage(region: try SharedRegion.create(name: "nk-test-trace", size: TrapPage.size))
        trace.collectClientReports(domain: 1, page: page)
        XCTAssertEqual(trace.domainCursors, 1)
        for id in UInt32(1)...500 { trace.domainLeft(id, page: page) }
        XCTAssertEqual(trace.domainCursors, 0)
    }
}
