// The kv interface: a bounded key-value store.
import LRPC

@ServiceInterface("kv")
public protocol KV {
    func put(key: BoundedText<64>, value: BoundedBytes<512>) throws(KVError)
    func get(key: BoundedText<64>) throws(KVError) -> BoundedBytes<512>
    func remove(key: BoundedText<64>) throws(KVError)
    func count() -> UInt32
}

public enum KVError: UInt32, ServiceError {
    case emptyKey, notFound, full
}
