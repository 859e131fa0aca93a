// The faulty service: a test-only server that fails on request, so the fault campaign
// (and tests) can crash a real domain from inside, as a bug would. Not in the default image.
import LRPC

public enum FaultyInterface {
    public static let name = "faulty"

    public static let null = Procedure<Empty, Empty>(id: 0, name: "null", simultaneousCalls: 4)
    /// Crash the whole domain from inside the call (a trap, as a failed precondition does).
    public static let crash = Procedure<Empty, Empty>(id: 1, name: "crash", simultaneousCalls: 4)
    /// Sleep the given milliseconds before returning (a hung server, for deadlines).
    public static let hold = Procedure<UInt32, Empty>(id: 2, name: "hold", simultaneousCalls: 4)

    /// Crash the whole domain by writing through a bad pointer (SIGSEGV from the CPU).
    public static let crashByBadPointer = Procedure<Empty, Empty>(id: 3, name: "crashByBadPointer", simultaneousCalls: 4)

    public static let all: [ProcedureDescriptor] = [null.descriptor, crash.descriptor, hold.descriptor,
                                                    crashByBadPointer.descriptor]
}
