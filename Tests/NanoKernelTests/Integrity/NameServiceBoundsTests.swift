// NameServiceBoundsTests (issue 7, finding 5, the name service's part): names are hostile
// input. They are bounded in characters and length, and in number (in all and per
// registrant), so `name.list` always fits its reply; and a name belongs to the domain
// that registered it, by the name the kernel gives the caller (CallContext.callerName),
// so no other domain can take it over while the name service runs, while the owner
// itself registers it again after a restart.
import Foundation
import Glibc
import Interfaces
import LRPC
import XCTest

final class NameServiceBoundsTests: KernelTestCase {
    var runtime: DomainRuntime!
    var names: ClientBinding!

    override func setUpWithError() throws {
        try super.setUpWithError()
        runtime = try kernel.connect()
        names = try runtime.importInterface(NameInterface.name)
        names.callTimeoutSeconds = 10
    }

    override func tearDown() {
        runtime?.close()
        super.tearDown()
    }

    func testANameWithANewlineIsRefused() throws {
        assertRefused("phantom\nclock", because: "only letters, digits")
        assertListIsUntouched()
    }

    func testNamesOutsideTheAllowedCharactersAreRefused() throws {
        for name in ["", "-leading-dash", "has space", "tab\there", "esc\u{1b}[2J", "caf\u{e9}", "semi;colon"] {
            assertRefused(name, because: "cannot register")
        }
        // Longer than the field: refused in the caller's own stub, before any trap.
        XCTAssertThrowsError(try names.call(NameInterface.register, InterfaceName(String(repeating: "a", count: 33)))) {
            guard case .fieldTooLarge(_, 33, NameInterface.maximumName) = $0 as? CallError else { return XCTFail("\($0)") }
        }
        assertListIsUntouched()
        XCTAssertNoThrow(try names.call(NameInterface.register, InterfaceName("ok.name_1-x")))
    }

    func testAnotherDomainCannotTakeOverALiveDomainsName() throws {
        let clock = try kernel.domain("clock")
        assertRefused("clock", because: "it belongs to clock (domain \(clock.id))")
        XCTAssertEqual(try names.call(NameInterface.lookup, InterfaceName("clock")), Registration(found: true, domain: clock.id))
        // Nor the name service's own.
        assertRefused("name", because: "it belongs to name")
        // What one operator client registered, another cannot take either.
        XCTAssertNoThrow(try names.call(NameInterface.register, InterfaceName("mine")))
        let other = try DomainRuntime.connect(socketPath: kernel.socketPath, name: "other")
        defer { other.close() }
        let otherNames = try other.importInterface(NameInterface.name)
        otherNames.callTimeoutSeconds = 10
        XCTAssertThrowsError(try otherNames.call(NameInterface.register, InterfaceName("mine"))) {
            guard case .procedureFailed(let text) = $0 as? CallError else { return XCTFail("\($0)") }
            XCTAssertTrue(text.contains("it belongs to test-\(getpid())"), text)
        }
        // Its owner may register it again.
        XCTAssertNoThrow(try names.call(NameInterface.register, InterfaceName("mine")))
        assertEveryoneAnswers()
    }

    func testARestartedServiceRegistersItsNameAgain() throws {
        let old = try kernel.domain("clock")
        kill(old.pid, SIGKILL)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) {
            (try? self.kernel.domain("clock")).map { $0.state == "ready" && $0.pid != old.pid } ?? false
        }, kernel.log)
        let fresh = try kernel.domain("clock")
        XCTAssertNotEqual(fresh.id, old.id)
        XCTAssertEqual(try names.call(NameInterface.lookup, InterfaceName("clock")), Registration(found: true, domain: fresh.id))
        assertEveryoneAnswers()
    }

    /// An operator session's names go when it closes: they neither stay reserved nor
    /// count against the registry's bound.
    func testAnOperatorSessionsNamesGoWhenItCloses() throws {
        let other = try DomainRuntime.connect(socketPath: kernel.socketPath, name: "other")
        let otherNames = try other.importInterface(NameInterface.name)
        otherNames.callTimeoutSeconds = 10
        let theirs = (0..<NameInterface.maximumEntriesPerRegistrant).map { "theirs\($0)" }
        for name in theirs { XCTAssertNoThrow(try otherNames.call(NameInterface.register, InterfaceName(name))) }
        XCTAssertTrue(Set(try names.call(NameInterface.list, Empty()).names).isSuperset(of: theirs))
        other.close()
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) {
            (try? self.names.call(NameInterface.list, Empty()).names) == ["bench", "clock", "file", "name"]
        }, "the closed session's names stay: \((try? names.call(NameInterface.list, Empty()).names) ?? [])")
        XCTAssertEqual(try names.call(NameInterface.lookup, InterfaceName("theirs0")), Registration(found: false, domain: 0))
        XCTAssertNoThrow(try names.call(NameInterface.register, InterfaceName("theirs0")))
        assertEveryoneAnswers()
    }

    /// Two sessions may carry the same operator name: one closing takes its own names
    /// only (the registry forgets by domain, not by name).
    func testASessionClosingLeavesASameNamedSessionsNames() throws {
        let first = try DomainRuntime.connect(socketPath: kernel.socketPath, name: "twin")
        let second = try DomainRuntime.connect(socketPath: kernel.socketPath, name: "twin")
        defer { second.close() }
        let firstNames = try first.importInterface(NameInterface.name)
        let secondNames = try second.importInterface(NameInterface.name)
        firstNames.callTimeoutSeconds = 10
        secondNames.callTimeoutSeconds = 10
        XCTAssertNoThrow(try firstNames.call(NameInterface.register, InterfaceName("first-twin")))
        XCTAssertNoThrow(try secondNames.call(NameInterface.register, InterfaceName("second-twin")))
        first.close()
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) {
            (try? self.names.call(NameInterface.lookup, InterfaceName("first-twin")))?.found == false
        }, "the closed session's name stays")
        XCTAssertTrue(try names.call(NameInterface.lookup, InterfaceName("second-twin")).found,
                      "the other session of the same name lost its name")
        assertEveryoneAnswers()
    }

    /// A service that stays down (stopped by the operator) loses its names; started
    /// again, it registers them under its new domain.
    func testADeadDomainsNamesGo() throws {
        let old = try kernel.domain("bench")
        _ = try runtime.admin("stop", argument: "bench")
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) { (try? self.kernel.domain("bench"))?.state == "stopped" }, kernel.log)
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) {
            (try? self.names.call(NameInterface.lookup, InterfaceName("bench"))) == Registration(found: false, domain: 0)
        }, "a stopped service's name stays registered")
        XCTAssertEqual(try names.call(NameInterface.list, Empty()).names, ["clock", "file", "name"])
        _ = try runtime.admin("start", argument: "bench")
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) {
            (try? self.kernel.domain("bench")).map { $0.state == "ready" && $0.id != old.id } ?? false
        }, kernel.log)
        let fresh = try kernel.domain("bench")
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) {
            (try? self.names.call(NameInterface.lookup, InterfaceName("bench"))) == Registration(found: true, domain: fresh.id)
        }, kernel.log)
    }

    func testOneRegistrantCannotFillTheRegistry() throws {
        for i in 0..<NameInterface.maximumEntriesPerRegistrant {
            XCTAssertNoThrow(try names.call(NameInterface.register, InterfaceName("n\(i)")))
        }
        assertRefused("one-too-many", because: "already holds \(NameInterface.maximumEntriesPerRegistrant) names")
        assertEveryoneAnswers()
    }

    /// Many registrants with the longest names: the registry stops at its bound, and the
    /// full list still fits its reply, for everyone.
    func testAFullRegistryOfLongNamesStillLists() throws {
        var clients: [DomainRuntime] = []
        defer { clients.forEach { $0.close() } }
        var registered = 4  // name, clock, bench, file
        var refusedFull = false
        for owner in 0..<9 {
            let client = try DomainRuntime.connect(socketPath: kernel.socketPath, name: "filler\(owner)")
            clients.append(client)
            let binding = try client.importInterface(NameInterface.name)
            binding.callTimeoutSeconds = 10
            for i in 0..<NameInterface.maximumEntriesPerRegistrant {
                let long = String(format: "o%02d-%02d-", owner, i) + String(repeating: "x", count: NameInterface.maximumName - 7)
                do {
                    _ = try binding.call(NameInterface.register, InterfaceName(long))
                    registered += 1
                } catch {
                    let text = "\(error)"
                    XCTAssertTrue(text.contains("the registry is full (\(NameInterface.maximumEntries) names)"), text)
                    if case .procedureFailed? = error as? CallError { refusedFull = true }
                }
            }
        }
        XCTAssertTrue(refusedFull, "nine registrants of eight names each must overflow the registry")
        XCTAssertEqual(registered, NameInterface.maximumEntries)
        let list = try names.call(NameInterface.list, Empty())
        XCTAssertEqual(list.names.count, NameInterface.maximumEntries)
        assertEveryoneAnswers()
    }

    // MARK: helpers

    private func assertRefused(_ name: String, because reason: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try names.call(NameInterface.register, InterfaceName(name)), file: file, line: line) {
            guard case .procedureFailed(let text) = $0 as? CallError else {
                return XCTFail("expected procedureFailed, got \($0)", file: file, line: line)
            }
            XCTAssertTrue(text.contains(reason), "\(String(reflecting: name)): \(text)", file: file, line: line)
        }
    }

    private func assertListIsUntouched(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(try names.call(NameInterface.list, Empty()).names, ["bench", "clock", "file", "name"], file: file, line: line)
    }

    /// Every service still answers: the registry's trouble stayed its own.
    private func assertEveryoneAnswers(file: StaticString = #filePath, line: UInt = #line) {
        do {
            let clock = try runtime.importInterface(ClockInterface.name)
            let bench = try runtime.importInterface(BenchInterface.name)
            XCTAssertGreaterThan(try clock.call(ClockInterface.now, Empty()).seconds, 1_600_000_000, file: file, line: line)
            XCTAssertEqual(try bench.call(BenchInterface.add, AddArguments(2, 3)), 5, file: file, line: line)
            XCTAssertTrue(try names.call(NameInterface.list, Empty()).names.contains("clock"), file: file, line: line)
        } catch {
            XCTFail("an honest call failed: \(error)\n\(kernel.log)", file: file, line: line)
        }
    }
}
