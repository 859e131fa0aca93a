// DomainIDBlockTests: the block of host ids a root kernel gives its services ([kernel]
// domain_id_first, domain_id_count) is range-checked, and each service's id is its own,
// depends on its name and not on the image's order, and stays when services are added.
@testable import BootImage
import XCTest

final class DomainIDBlockTests: XCTestCase {
    private func image(_ kernel: String, services: [String] = ["clock"]) -> String {
        "[image]\nname = \"t\"\n\n[kernel]\n\(kernel)\n"
            + services.map { "\n[[service]]\nname = \"\($0)\"\nexecutable = \"nk-clock\"\n" }.joined()
    }

    private func imageError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String? {
        do throws(ImageError) {
            _ = try BootImage.parse(text: text, path: "bad.toml")
            XCTFail("expected the image to be refused", file: file, line: line)
            return nil
        } catch {
            return error.description
        }
    }

    func testTheDefaultBlockAndAChosenOne() throws {
        XCTAssertEqual(try BootImage.parse(text: image(""), path: "ok.toml").domainIDs, DomainIDBlock())
        XCTAssertEqual(DomainIDBlock().range, 0x7000_0000...0x7000_FFFF)
        let chosen = try BootImage.parse(text: image("domain_id_first = 300000\ndomain_id_count = 1024"), path: "ok.toml")
        XCTAssertEqual(chosen.domainIDs, DomainIDBlock(first: 300_000, count: 1024))
    }

    func testBlocksThatCannotWorkAreRefused() {
        XCTAssertEqual(imageError(image("domain_id_first = 0")),
                       "bad.toml:5: kernel.domain_id_first: expected an integer from 1 to 4294967294, got integer 0")
        XCTAssertEqual(imageError(image("domain_id_count = 10")),
                       "bad.toml:5: kernel.domain_id_count: expected an integer from 256 to 16777216, got integer 10")
        XCTAssertEqual(imageError(image("domain_id_first = 4294967000")),
                       "bad.toml:4: kernel: the block 4294967000...4295032535 must lie within 1...4294967294")
        XCTAssertEqual(imageError(image("domain_id_first = 60000")),
                       "bad.toml:4: kernel: the block 60000...125535 holds the overflow ids 65534/65535 (nobody)")
        XCTAssertEqual(imageError(image("domain_ids = 5")),
                       "bad.toml:5: kernel: unknown field 'domain_ids'")
    }

    func testEachServiceHasItsOwnStableID() {
        let block = DomainIDBlock()
        let names = (0..<256).map { "service\($0)" }
        let ids = block.ids(for: names)
        XCTAssertEqual(Set(ids.values).count, 256, "two services share an id")
        XCTAssertTrue(ids.values.allSatisfy(block.range.contains))
        XCTAssertEqual(block.ids(for: names.reversed()), ids, "the image's order changed an id")
        XCTAssertEqual(block.ids(for: ["name", "clock"])["clock"], block.ids(for: ["clock", "kv", "stats"])["clock"])
        XCTAssertEqual(block.ids(for: ["kv"])["kv"], 1_879_055_764, "the hash changed: every service's files change owner")
    }

    func testACollisionMovesToTheNextFreeSlot() {
        // A block of 256 holds 256 services; with hashes colliding, probing still places each.
        let small = DomainIDBlock(first: 100_000, count: 256)
        let ids = small.ids(for: (0..<256).map { "s\($0)" })
        XCTAssertEqual(Set(ids.values), Set(100_000...100_255))
    }
}
