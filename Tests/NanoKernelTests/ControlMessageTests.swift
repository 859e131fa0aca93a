// The control messages' one tag table: every message encodes with its tag and decodes to
// itself; unknown tags, truncated and overlong messages are refused with a clear error.
import LRPC
import XCTest

final class ControlMessageTests: XCTestCase {
    private let interface = InterfaceDescriptor(name: "clock", procedures: [
        ProcedureDescriptor(id: 0, name: "now", astackSize: 16, simultaneousCalls: 2,
                            arguments: FieldLayout([]), results: FieldLayout(signature: "seconds:i64,nanoseconds:i32")!),
    ])
    private let geometry = AStackGeometry(slotCount: 2, payloadCapacity: 64)

    /// One message per tag.
    private var samples: [ControlMessage] {
        [
            .hello(domainName: "op"), .export(interface),
            .importInterface(request: 1, name: "clock", transport: nil, waitMilliseconds: 0),
            .importInterface(request: 2, name: "clock", transport: .message, waitMilliseconds: 500),
            .ready, .bindAccepted(binding: 3), .bindRefused(binding: 4, reason: "no"),
            .admin(request: 5, command: "status", argument: ""),
            .release(binding: BindingObject(index: 6, generation: 2, secret: 99)),
            .welcome(domainID: 7, domainName: "op-1"), .exported(interface: "clock"),
            .imported(request: 8, binding: BindingObject(index: 9, generation: 10, secret: 11, node: 12),
                      geometry: geometry, interface: interface, transport: .lrpc, callDeadlineMilliseconds: 250),
            .bind(binding: 13, client: 14, clientName: "op", interface: "clock", geometry: geometry, transport: .lrpc),
            .unbind(binding: 15), .failed(request: 16, message: "why"), .adminReply(request: 17, body: "{}"),
            .tune(policy: "placement=same-cpu,spin=0"), .registerAgain,
            .revoked(binding: BindingObject(index: 1, generation: 1, secret: 1), reason: "server died"), .stop,
            .domainEnded(domainID: 18, name: "clock", returning: true),
        ]
    }

    func testEveryTagRoundTrips() throws {
        let samples = self.samples
        XCTAssertEqual(Set(samples.map(\.tag)), Set(ControlTag.allCases), "a sample for every tag")
        for message in samples {
            let bytes = message.encoded()
            XCTAssertEqual(bytes.first, message.tag.rawValue)
            XCTAssertEqual(try ControlMessage.decode(bytes), message)
        }
        XCTAssertTrue(ControlTag.hello.travelsToKernel)
        XCTAssertFalse(ControlTag.welcome.travelsToKernel)
        XCTAssertTrue(BindingObject(index: 0, generation: 0, secret: 0, node: 3).isRemote)
        XCTAssertFalse(BindingObject(index: 0, generation: 0, secret: 0).isRemote)
    }

    func testMalformedMessagesAreRefused() {
        func error(_ bytes: [UInt8]) -> String {
            do { _ = try ControlMessage.decode(bytes); return "decoded" } catch { return error.message }
        }
        XCTAssertEqual(error([0]), "unknown control message tag 0")
        XCTAssertEqual(error([250]), "unknown control message tag 250")
        XCTAssertTrue(error([ControlTag.bindAccepted.rawValue, 1, 2]).contains("truncated"))
        XCTAssertTrue(error(ControlMessage.ready.encoded() + [0]).contains("stray bytes"))
        var long = [ControlTag.hello.rawValue]
        withUnsafeBytes(of: UInt32(70_000).littleEndian) { long += $0 }
        XCTAssertTrue(error(long + [UInt8](repeating: 65, count: 70_000)).contains("too long"))
    }
}
