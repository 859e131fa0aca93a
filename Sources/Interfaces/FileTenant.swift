// A test-only service (nk-tenant) that is a client of the file service: each instance
// exports an interface named after itself and relays calls to the file service through
// its own binding, so tests can act as a service with a view of its own.
import LRPC

public enum FileTenantInterface {
    public static let write = Procedure<WholeFile, Empty>(id: 0, name: "write")
    public static let read = Procedure<PathArgument, BoundedBytes<65536>>(id: 1, name: "read")
    /// Names in the directory, one per line.
    public static let list = Procedure<PathArgument, BoundedText<16384>>(id: 2, name: "list")
}
