// Lab 5's interface (docs/labs/lab5.md): a running total kept by a protected service.
import LRPC

public enum CounterInterface {
    public static let name = "counter"

    /// Add to the total and return the new total; fails rather than overflow.
    public static let add = Procedure<Int64, Int64>(id: 0, name: "add")
    public static let total = Procedure<Empty, Int64>(id: 1, name: "total")

    public static let all: [ProcedureDescriptor] = [add.descriptor, total.descriptor]
}
