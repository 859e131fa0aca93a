// FaultCampaignTests: the fault campaign, bounded to about a minute (scripts/fault-campaign
// runs it for longer). It asserts everything itself; this checks its verdict and summary.
import Foundation
import XCTest

final class FaultCampaignTests: XCTestCase {
    func testAMinuteOfFaultsLosesNothing() throws {
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("nk-campaign-\(getpid()).json").path
        defer { unlink(json) }
        let result = try KernelHarness.run([KernelHarness.buildDirectory + "/nk-fault-campaign", "--seconds", "45", "--json", json],
                                           timeout: 180)
        XCTAssertEqual(result.status, 0, result.output)
        let data = try Data(contentsOf: URL(fileURLWithPath: json))
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let calls = try XCTUnwrap(summary["calls"] as? [String: Any])
        XCTAssertEqual(calls["hung"] as? Int, 0)
        XCTAssertGreaterThan(calls["results"] as? Int ?? 0, 1000)
        XCTAssertEqual(summary["kernelDeaths"] as? Int, 0)
        XCTAssertEqual((summary["servicesLostForGood"] as? [Any])?.count, 0)
        XCTAssertEqual((summary["processesLeftAfterKernelKill"] as? [Any])?.count, 0)
        let faults = try XCTUnwrap(summary["faults"] as? [String: Int])
        XCTAssertGreaterThanOrEqual(faults.count, 5, "too few kinds of fault were injected: \(faults)")
        XCTAssertEqual((summary["failures"] as? [Any])?.count, 0, result.output)
    }
}
