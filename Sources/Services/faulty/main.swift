// nk-faulty: a server that crashes or hangs when asked (see Interfaces/Faulty.swift).
import Glibc
import Interfaces
import LRPC

let service = Service(interface: FaultyInterface.name)
service.handle(FaultyInterface.null) { _, _ in Empty() }
service.handle(FaultyInterface.crash) { _, _ in
    // A real crash, as a failed precondition makes one: a trap instruction, SIGILL. Not
    // raise(): the domain is its pid namespace's init, which ignores signals it sends itself.
    fatalError("faulty: crashing on request")
}
service.handle(FaultyInterface.crashByBadPointer) { _, _ in
    // A real fault, as a use-after-free makes one: the CPU's SIGSEGV, never sent by anyone.
    let bad = UnsafeMutablePointer<Int>(bitPattern: 16)!
    bad.pointee = 1
    return Empty()
}
service.handle(FaultyInterface.hold) { milliseconds, _ in
    usleep(min(milliseconds, 60_000) * 1000)
    return Empty()
}
ServiceMain.run(service)
