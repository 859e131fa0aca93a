// RestartSupervisorTests: the restart decisions, driven by a made-up clock (no processes).
@testable import NanoKernel
import BootImage
import XCTest

final class RestartSupervisorTests: XCTestCase {
    private let second: UInt64 = 1_000_000_000
    private let ms: UInt64 = 1_000_000

    private func supervisor(_ policy: RestartPolicy = .onFailure, budget: Int = 5, window: Int = 30,
                            backoff: Int = 50, cap: Int = 400, stableAfter: Int = 10) -> RestartSupervisor {
        var settings = SupervisionSettings()
        settings.budget = budget
        settings.windowSeconds = window
        settings.backoffMilliseconds = backoff
        settings.backoffCapMilliseconds = cap
        settings.stableAfterSeconds = stableAfter
        return RestartSupervisor(policy: policy, settings: settings)
    }

    func testPolicies() {
        var never = supervisor(.never)
        never.started(at: 0)
        XCTAssertEqual(never.exited(.failure("killed by signal 9"), at: second), .stayDown)

        var onFailure = supervisor(.onFailure)
        onFailure.started(at: 0)
        XCTAssertEqual(onFailure.exited(.completed, at: second), .stayDown, "a clean finish is not a failure")
        onFailure.started(at: 2 * second)
        XCTAssertEqual(onFailure.exited(.failure("exited with status 0 after its control channel failed"), at: 3 * second),
                       .restart(afterNanoseconds: 50 * ms), "an exit the operator did not ask for is a failure")
        onFailure.started(at: 4 * second)
        XCTAssertEqual(onFailure.exited(.requested, at: 5 * second), .stayDown, "the operator's stop stays stopped")

        var always = supervisor(.always)
        always.started(at: 0)
        XCTAssertEqual(always.exited(.completed, at: second), .restart(afterNanoseconds: 50 * ms))
        always.started(at: 2 * second)
        XCTAssertEqual(always.exited(.requested, at: 3 * second), .stayDown)
    }

    func testBackoffDoublesUpToTheCap() {
        var s = supervisor(budget: 100, window: 30)
        var now: UInt64 = 0
        var delays: [UInt64] = []
        for _ in 0..<6 {
            s.started(at: now)
            now += 10 * ms
            guard case .restart(let delay) = s.exited(.failure("crashed"), at: now) else { return XCTFail("not restarted") }
            delays.append(delay / ms)
            now += delay
        }
        XCTAssertEqual(delays, [50, 100, 200, 400, 400, 400])
    }

    func testAStableRunResetsTheBackoff() {
        var s = supervisor(budget: 100)
        s.started(at: 0)
        XCTAssertEqual(s.exited(.failure("a"), at: ms), .restart(afterNanoseconds: 50 * ms))
        s.started(at: 2 * ms)
        XCTAssertEqual(s.exited(.failure("b"), at: 3 * ms), .restart(afterNanoseconds: 100 * ms))
        s.started(at: 4 * ms)
        // Ran 10 s: back to the first step.
        XCTAssertEqual(s.exited(.failure("c"), at: 4 * ms + 10 * second), .restart(afterNanoseconds: 50 * ms))
    }

    func testTheBudgetIsASlidingWindow() {
        var s = supervisor(budget: 3, window: 30)
        for i: UInt64 in 0..<3 {
            s.started(at: i * second)
            guard case .restart = s.exited(.failure("crash \(i)"), at: i * second + ms) else { return XCTFail("restart \(i)") }
        }
        XCTAssertEqual(s.restartsInWindow(at: 3 * second), 3)
        s.started(at: 3 * second)
        XCTAssertEqual(s.exited(.failure("killed by signal 11"), at: 4 * second),
                       .failed(reason: "3 restarts in 30 s; last: killed by signal 11"))
        // Once the first restart slid out of the window, there is room again.
        s.started(at: 30 * second)
        guard case .restart = s.exited(.failure("late"), at: 30 * second + 2 * ms) else { return XCTFail("window did not slide") }
        XCTAssertEqual(s.restartsInWindow(at: 30 * second + 2 * ms), 3)
    }

    func testTheOperatorsRestartResetsTheBudget() {
        var s = supervisor(budget: 1)
        s.started(at: 0)
        XCTAssertEqual(s.exited(.failure("a"), at: ms), .restart(afterNanoseconds: 50 * ms))
        s.started(at: 2 * ms)
        XCTAssertEqual(s.exited(.failure("b"), at: 3 * ms), .failed(reason: "1 restarts in 30 s; last: b"))
        s.reset()
        XCTAssertEqual(s.restartsInWindow(at: 4 * ms), 0)
        s.started(at: 4 * ms)
        XCTAssertEqual(s.exited(.failure("c"), at: 5 * ms), .restart(afterNanoseconds: 50 * ms))
    }

    func testAHugeFailureCountDoesNotOverflow() {
        let s = supervisor(backoff: 60_000, cap: 600_000)
        XCTAssertEqual(s.backoff(failuresInARow: 1_000_000), 600_000 * ms)
        XCTAssertEqual(s.backoff(failuresInARow: 0), 60_000 * ms)
    }
}

final class HangWatchTests: XCTestCase {
    func testACallSeenInFlightPastItsLimitMarksItsServer() {
        var watch = HangWatch()
        let call = HangWatch.Call(binding: 1, slot: 0, sequence: 7)
        let ms: UInt64 = 1_000_000
        XCTAssertEqual(watch.sample([(call, 100 * ms, 42)], now: 0), [])
        XCTAssertEqual(watch.sample([(call, 100 * ms, 42)], now: 90 * ms), [])
        XCTAssertEqual(watch.sample([(call, 100 * ms, 42)], now: 101 * ms), [42])
        // The next call on the same slot (a new sequence) starts its own clock.
        let next = HangWatch.Call(binding: 1, slot: 0, sequence: 8)
        XCTAssertEqual(watch.sample([(next, 100 * ms, 42)], now: 150 * ms), [])
        XCTAssertEqual(watch.sample([], now: 300 * ms), [])
        XCTAssertEqual(watch.sample([(next, 100 * ms, 42)], now: 310 * ms), [], "a call that left flight is forgotten")
    }
}

final class BootOrderTests: XCTestCase {
    private func entry(_ name: String, provides: [String], imports: [String] = []) -> ServiceEntry {
        var e = ServiceEntry(name: name, executable: "nk-\(name)")
        e.provides = provides
        e.imports = imports
        return e
    }

    func testServicesStartAfterTheServicesTheyImportFrom() {
        let services = [entry("clock", provides: ["clock"], imports: ["name"]),
                        entry("app", provides: ["app"], imports: ["clock", "name"]),
                        entry("name", provides: ["name"])]
        XCTAssertEqual(DomainTable.bootOrder(services).map(\.name), ["name", "clock", "app"])
    }

    func testACycleKeepsTheImagesOrder() {
        let services = [entry("a", provides: ["a"], imports: ["b"]), entry("b", provides: ["b"], imports: ["a"])]
        XCTAssertEqual(DomainTable.bootOrder(services).map(\.name), ["a", "b"])
    }
}
