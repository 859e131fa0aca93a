// nk-clock: the clock service.
import Glibc
import Interfaces
import LRPC

struct ClockServer: Interfaces.Clock {
    func now() -> Timestamp { read(CLOCK_REALTIME) }
    func monotonic() -> Timestamp { read(CLOCK_MONOTONIC) }
    func resolution() -> Int64 {
        var ts = timespec()
        clock_getres(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    private func read(_ clock: clockid_t) -> Timestamp {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Timestamp(seconds: Int64(ts.tv_sec), nanoseconds: Int64(ts.tv_nsec))
    }
}

ServiceMain.run(ClockInterface.service(ClockServer()))
