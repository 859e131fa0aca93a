// SupervisionImageTests: [service.supervision] and [deadlines] in a boot image, and the
// message each value out of range gets (file, line, field).
@testable import BootImage
import XCTest

final class SupervisionImageTests: XCTestCase {
    private static let header = """
        [image]
        name = "t"
        [[service]]
        name = "clock"
        executable = "nk-clock"
        provides = ["clock"]
        """

    private func imageError(_ text: String) -> String? {
        do throws(ImageError) {
            _ = try BootImage.parse(text: text, path: "bad.toml")
            return nil
        } catch { return error.description }
    }

    func testFieldsMapToTheModel() throws {
        let image = try BootImage.parse(text: Self.header + """

            restart = "always"
            [service.supervision]
            backoff_ms = 20
            backoff_cap_ms = 2000
            budget = 8
            window_s = 60
            stable_after_s = 5
            hang_limit_ms = 1500
            stop_grace_ms = 300
            [deadlines]
            clock = 250
            """, path: "t.toml")
        let s = image.services[0].supervision
        XCTAssertEqual(image.services[0].restart, .always)
        XCTAssertEqual([s.backoffMilliseconds, s.backoffCapMilliseconds, s.budget, s.windowSeconds, s.stableAfterSeconds],
                       [20, 2000, 8, 60, 5])
        XCTAssertEqual(s.hangLimitMilliseconds, 1500)
        XCTAssertEqual(s.stopGraceMilliseconds, 300)
        XCTAssertEqual(image.callDeadlines, ["clock": 250])
        XCTAssertEqual(image.callDeadlineMilliseconds(for: "clock"), 250)
        XCTAssertEqual(image.callDeadlineMilliseconds(for: "name"), DefaultCallDeadline.defaultMilliseconds)
    }

    func testDefaults() throws {
        let image = try BootImage.parse(text: Self.header, path: "t.toml")
        XCTAssertEqual(image.services[0].supervision, SupervisionSettings())
        XCTAssertNil(image.services[0].supervision.hangLimitMilliseconds)
        XCTAssertEqual(image.services[0].supervision.stopGraceMilliseconds, 2_000)
        XCTAssertEqual(image.callDeadlines, [:])
    }

    func testOutOfRange() {
        XCTAssertEqual(imageError(Self.header + "\n[service.supervision]\nbudget = 0"),
                       "bad.toml:8: service 'clock'.supervision.budget: expected an integer from 1 to 1000, got integer 0")
        XCTAssertEqual(imageError(Self.header + "\n[service.supervision]\nwindow_s = \"30\""),
                       #"bad.toml:8: service 'clock'.supervision.window_s: expected an integer from 1 to 3600, got "30""#)
        XCTAssertEqual(imageError(Self.header + "\n[service.supervision]\nbackoff_ms = 500\nbackoff_cap_ms = 100"),
                       "bad.toml:9: service 'clock'.supervision.backoff_cap_ms: the cap (100 ms) is below backoff_ms (500 ms)")
        XCTAssertEqual(imageError(Self.header + "\n[service.supervision]\nhang_limit_ms = 1"),
                       "bad.toml:8: service 'clock'.supervision.hang_limit_ms: expected an integer from 10 to 3600000, got integer 1")
        XCTAssertEqual(imageError(Self.header + "\n[service.supervision]\nstop_grace_ms = 0"),
                       "bad.toml:8: service 'clock'.supervision.stop_grace_ms: expected an integer from 1 to 600000, got integer 0")
        XCTAssertEqual(imageError(Self.header + "\n[service.supervision]\nbudgte = 3"),
                       "bad.toml:8: service 'clock'.supervision: unknown field 'budgte' (did you mean 'budget'?)")
        XCTAssertEqual(imageError(Self.header + "\n[deadlines]\nclock = -5"),
                       "bad.toml:8: deadlines.clock: expected an integer from 1 to 3600000, got integer -5")
        XCTAssertEqual(imageError(Self.header + "\n[deadlines]\nclokc = 5"),
                       imageError(Self.header + "\n[deadlines]\nclokc = 5"))
        XCTAssertTrue(imageError(Self.header + "\n[deadlines]\nclokc = 5")?.hasPrefix("bad.toml:8: deadlines.clokc:") ?? false)
    }
}
