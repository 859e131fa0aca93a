// nk-clock: the clock service.
import Glibc
import Interfaces
import LRPC

func read(_ clock: clockid_t) -> Timestamp {
    var ts = timespec()
    clock_gettime(clock, &ts)
    return Timestamp(seconds: Int64(ts.tv_sec), nanoseconds: Int64(ts.tv_nsec))
}

let service = Service(interface: ClockInterface.name)
service.handle(ClockInterface.now) { _, _ in read(CLOCK_REALTIME) }
service.handle(ClockInterface.monotonic) { _, _ in read(CLOCK_MONOTONIC) }
service.handle(ClockInterface.resolution) { _, _ in
    var ts = timespec()
    clock_getres(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}
ServiceMain.run(service)
