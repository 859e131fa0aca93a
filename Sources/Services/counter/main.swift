// nk-counter: lab 5's worked solution (docs/labs/lab5.md). Write your own first.
import Interfaces
import LRPC

/// The total, shared by every slot thread of every binding: one lock guards it.
final class Total: @unchecked Sendable {
    private let monitor = Monitor()
    private var value: Int64 = 0

    func add(_ n: Int64) throws -> Int64 {
        try monitor.locked {
            let (sum, overflow) = value.addingReportingOverflow(n)
            guard !overflow else { throw ProcedureFailure("the total \(value) + \(n) would overflow") }
            value = sum
            return sum
        }
    }

    var current: Int64 { monitor.locked { value } }
}

let total = Total()
let service = Service(interface: CounterInterface.name)
service.handle(CounterInterface.add) { n, _ in try total.add(n) }
service.handle(CounterInterface.total) { _, _ in total.current }
ServiceMain.run(service)
