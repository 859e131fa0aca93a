// kv-store: the kv interface, in memory. Handlers run concurrently (one thread per
// A-stack slot per binding), so the table sits behind a lock.
import NanoService
import KVInterface
import Synchronization

final class Store: KV, Sendable {
    static let capacity = 1024
    private let table = Mutex<[String: [UInt8]]>([:])
    private let log = Logger(label: "kv")

    func put(key: BoundedText<64>, value: BoundedBytes<512>) throws(KVError) {
        guard !key.text.isEmpty else { throw .emptyKey }
        try table.withLock { (t) throws(KVError) in
            guard t.count < Self.capacity || t[key.text] != nil else { throw .full }
            t[key.text] = value.bytes
        }
        log.debug("put", metadata: ["key": "\(key.text)", "bytes": "\(value.bytes.count)"])
    }

    func get(key: BoundedText<64>) throws(KVError) -> BoundedBytes<512> {
        guard let bytes = table.withLock({ $0[key.text] }) else { throw .notFound }
        return BoundedBytes(bytes)
    }

    func remove(key: BoundedText<64>) throws(KVError) {
        guard table.withLock({ $0.removeValue(forKey: key.text) }) != nil else { throw .notFound }
    }

    func count() -> UInt32 { UInt32(table.withLock { $0.count }) }
}

DomainLogHandler.bootstrap()
Logger(label: "kv").info("starting", metadata: ["capacity": "\(Store.capacity)"])
ServiceMain.run(KVInterface.service(Store()))
