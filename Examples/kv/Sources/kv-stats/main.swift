// kv-stats: a service that is also a client. It serves `stats` by calling kv and the
// clock through their generated clients, which bind again by themselves when a server
// restarts: the first call after kv restarts imports kv again, once, and is answered by
// the new store.
import KVInterface
import NanoService

final class StatsServer: Stats, Sendable {
    let clock: ClockClient
    let store: KVClient

    init(runtime: DomainRuntime) throws {
        clock = try ClockClient(importing: runtime)
        store = try KVClient(importing: runtime)
    }

    func summary() throws(StatsError) -> Summary {
        guard let keys = try? countKeys() else { throw .storeUnavailable }
        guard let now = try? clock.now() else { throw .clockUnavailable }
        return Summary(keys: keys, takenAt: now, rebinds: UInt32(store.connection.rebinds))
    }

    /// A call in flight when kv died fails with serverDied and the stub does not repeat
    /// it (the server may have run it). count changes nothing, so asking the restarted
    /// store once more is safe; a put would not be.
    private func countKeys() throws(CallError) -> UInt32 {
        do {
            return try store.count()
        } catch .serverDied {
            return try store.count()
        }
    }
}

DomainLogHandler.bootstrap()
ServiceMain.run { runtime in
    let server = try StatsServer(runtime: runtime)
    Logger(label: "stats").info("bound to kv and clock")
    return StatsInterface.service(server)
}
