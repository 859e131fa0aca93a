// nk-bench: the four procedures of the LRPC paper's measurements.
import Glibc
import Interfaces
import LRPC

let service = Service(interface: BenchInterface.name)
service.handle(BenchInterface.null) { _, _ in Empty() }
service.handle(BenchInterface.add) { args, _ in args.a &+ args.b }
service.handle(BenchInterface.bigIn) { _, _ in Empty() }
service.handle(BenchInterface.bigInOut) { args, _ in args }
service.handle(BenchInterface.hold) { milliseconds, _ in
    guard milliseconds <= 10_000 else { throw ProcedureFailure("hold is limited to 10000 ms") }
    usleep(milliseconds * 1000)
    return Empty()
}
ServiceMain.run(service)
