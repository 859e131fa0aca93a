// nk-bench: the four procedures of the LRPC paper's measurements.
import Interfaces
import LRPC

let service = Service(interface: BenchInterface.name)
service.handle(BenchInterface.null) { _, _ in Empty() }
service.handle(BenchInterface.add) { args, _ in args.a &+ args.b }
service.handle(BenchInterface.bigIn) { _, _ in Empty() }
service.handle(BenchInterface.bigInOut) { args, _ in args }
ServiceMain.run(service)
