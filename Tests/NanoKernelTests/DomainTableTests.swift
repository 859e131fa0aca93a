// The DomainTable's decisions without processes: records on socket pairs, retired in one
// step, restarted only as the image's policy says and never past the restart budget.
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

    func testRestartFollowsThePolicy() throws {
        XCTAssertNil(table.restart(try service(.never, state: .crashed), bootFinished: true))
        XCTAssertNil(table.restart(try service(.onFailure, state: .exited), bootFinished: true), "a clean exit is not a failure")
        // Wanted, but this table cannot spawn: the attempt is made and reported, the record stays.
        let crashed = try service(.onFailure, state: .crashed)
        XCTAssertNil(table.restart(crashed, bootFinished: true))
        XCTAssertTrue(log.recentLines.contains { $0.contains("restarting clock") })
        XCTAssertNotNil(table[crashed.id])
    }

    func testRestartStopsAtTheBudget() throws {
        let worn = try service(.always, state: .crashed, restarts: DomainTable.maximumRestarts)
        XCTAssertNil(table.restart(worn, bootFinished: true))
        XCTAssertEqual(worn.state, .failed)
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
}
