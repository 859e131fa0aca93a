// kv-stats: a service that is also a client. It serves `stats` by calling kv and the
// clock; when the store restarts, its binding goes stale and the next call imports kv
// again (rebinding), once.
import KVInterface
import NanoService
import Synchronization

final class StatsServer: Stats, Sendable {
    let runtime: DomainRuntime
    let clock: ClockClient
    private let store: Mutex<KVClient>
    private let rebinds = Atomic<UInt32>(0)

    init(runtime: DomainRuntime) throws {
        self.runtime = runtime
        clock = try ClockClient(importing: runtime)
        store = Mutex(try KVClient(importing: runtime))
    }

    func summary() throws(StatsError) -> Summary {
        let keys = try countKeys()
        guard let now = try? clock.now() else { throw .clockUnavailable }
        return Summary(keys: keys, takenAt: now, rebinds: rebinds.load(ordering: .relaxed))
    }

    /// kv.count, importing kv again if the old binding died with its server.
    private func countKeys() throws(StatsError) -> UInt32 {
        let current = store.withLock { $0 }
        do {
            return try current.count()
        } catch .serverDied, .refused(.staleBindingObject) {
            guard let fresh = try? KVClient(importing: runtime), let keys = try? fresh.count() else {
                throw .storeUnavailable
            }
            store.withLock { $0 = fresh }
            rebinds.add(1, ordering: .relaxed)
            return keys
        } catch {
            throw .storeUnavailable
        }
    }
}

DomainLogHandler.bootstrap()
ServiceMain.run { runtime in
    let server = try StatsServer(runtime: runtime)
    Logger(label: "stats").info("bound to kv and clock")
    return StatsInterface.service(server)
}
