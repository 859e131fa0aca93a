// A hostile service (nk-hostile) attacks from inside its own protection domain, one
// attack per test. Each test asserts three things:
//   (a) the attack failed: the service reports the errno that stopped it, or the sandbox
//       stopped the whole domain (the caller's call fails with serverDied), or the kernel
//       cut the domain off for breaking the control protocol;
//   (b) when stopped or cut off, the kernel named the refused call (or the broken rule)
//       correctly, in `status` and in its log;
//   (c) the kernel and every other domain kept running and kept answering calls.
// A mechanism the host lacks fails the test with a message naming it: nothing here is
// skipped.
import Foundation
import Glibc
import Interfaces
import LRPC
import NanoAdmin
import NanoKernel
import XCTest

final class HostileServiceTests: HostileTestCase {
    // MARK: files (own root, then Landlock)
    //
    // Paths outside the domain's grants do not exist in its own root (ENOENT); Landlock
    // refuses what does exist there but is not granted (EACCES).

    func testOpeningEtcPasswdIsRefused() throws {
        try require(.namespace("mount"))
        assertFails(AttackOrder("open-passwd"), errno: ENOENT)
    }

    func testReadingAFileInAnotherServicesGrantIsRefused() throws {
        try require(.namespace("mount"))
        assertFails(AttackOrder("open-path", path: grantDirectory + "/secret.txt"), errno: ENOENT)
    }

    func testCreatingAFileInAnotherServicesGrantIsRefused() throws {
        try require(.namespace("mount"))
        assertFails(AttackOrder("create-path", path: grantDirectory + "/planted"), errno: ENOENT)
        XCTAssertFalse(FileManager.default.fileExists(atPath: grantDirectory + "/planted"))
    }

    func testOpeningTheKernelsMemoryIsRefused() throws {
        try require(.namespace("mount"), .namespace("pid"))
        assertFails(AttackOrder("open-proc-mem", target: Int64(kernelPid)), errno: ENOENT)
    }

    func testOpeningAnUngrantedFileInItsOwnRootIsRefused() throws {
        // /proc/self/status exists in the domain's own /proc; only /proc/self/maps is granted.
        try require(.landlock)
        assertFails(AttackOrder("open-path", path: "/proc/self/status"), errno: EACCES)
    }

    func testRunningOutOfDescriptorsStopsAtTheLimit() throws {
        assertFails(AttackOrder("fd-bomb"), errno: EMFILE)
    }

    // MARK: network and the kernel's control socket

    func testAnInternetSocketStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("socket-inet"), naming: "socket(AF_INET, SOCK_STREAM, 0)")
    }

    func testConnectingToTheKernelsControlSocketStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("connect-control", path: kernel.socketPath), naming: "socket(AF_UNIX, SOCK_SEQPACKET")
    }

    func testReconnectingTheControlChannelToTheKernelsSocketStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("connect-existing", path: kernel.socketPath),
                      naming: "connect(3, {AF_UNIX, \"\(kernel.socketPath)\"}")
    }

    func testASocketPairStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("socketpair"), naming: "socketpair(AF_UNIX, SOCK_STREAM")
    }

    // MARK: the kernel and other processes

    func testPtraceAttachToTheKernelStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("ptrace-attach", target: Int64(kernelPid)), naming: "ptrace(PTRACE_ATTACH, \(kernelPid)")
    }

    func testProcessVMWritevIntoTheKernelStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("process-vm-writev", target: Int64(kernelPid)), naming: "process_vm_writev(\(kernelPid)")
    }

    func testProcessVMReadvOfTheKernelStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("process-vm-readv", target: Int64(kernelPid)), naming: "process_vm_readv(\(kernelPid)")
    }

    func testKillingTheKernelStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("kill", target: Int64(kernelPid)), naming: "kill(\(kernelPid), SIGKILL)")
    }

    func testKillingEveryProcessStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("kill-all"), naming: "kill(-1, SIGKILL)")
    }

    func testTgkillOfTheKernelFails() throws {
        // tgkill stays allowed (raise, pthread_kill); the pid namespace hides the kernel
        // and Landlock's signal scope would refuse it anyway.
        try require(.namespace("pid"), .landlockSignalScope)
        assertFails(AttackOrder("tgkill", target: Int64(kernelPid)))
    }

    func testTgkillOfASiblingServiceFails() throws {
        try require(.namespace("pid"), .landlockSignalScope)
        let clockPid = try kernel.domain("clock").pid
        assertFails(AttackOrder("tgkill", target: Int64(clockPid)))
    }

    func testPidfdOpenOfTheKernelStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("pidfd-open", target: Int64(kernelPid)), naming: "pidfd_open(\(kernelPid)")
    }

    // MARK: new programs, processes, threads, memory

    func testExecveOfAShellStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("execve-sh"), naming: "execve(\"/bin/sh\"")
    }

    func testExecveatOfAShellThroughThePinnedDescriptorIsRefused() throws {
        // The filter's one execveat (fd 1000, AT_EMPTY_PATH) ignores the fd for an
        // absolute path: there is no /bin/sh in the domain's own root (and Landlock
        // grants execute on the service's own file alone).
        try require(.namespace("mount"), .landlock)
        assertFails(AttackOrder("execveat-sh"), errno: ENOENT)
    }

    func testAForkBombStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("fork-bomb"), naming: "clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD")
    }

    func testARawForkStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("raw-fork"), naming: "fork()")
    }

    func testAThreadBombStopsAtTheProcessLimit() throws {
        // A domain whose uid outside is host root is exempt from RLIMIT_NPROC; the
        // sandbox maps it to an unprivileged uid, which takes a user namespace.
        try require(.namespace("user"))
        let outcome = assertFails(AttackOrder("thread-bomb"), errno: EAGAIN)
        let limits = try hostileSandbox()["limits"] ?? ""
        XCTAssertTrue(limits.contains("512 processes"), limits)
        if let outcome, let started = Int(outcome.detail.split(separator: " ").dropFirst().first ?? "") {
            XCTAssertLessThan(started, 512, outcome.detail)
        } else {
            XCTFail("no thread count in: \(String(describing: outcome?.detail))")
        }
    }

    func testAnAddressSpaceBombStopsAtTheLimit() throws {
        let outcome = assertFails(AttackOrder("memory-bomb"), errno: ENOMEM)
        XCTAssertTrue(outcome?.detail.contains("malloc(8 GiB): Cannot allocate memory") ?? false, outcome?.detail ?? "")
    }

    // MARK: namespaces, mounts and kernel facilities

    func testMountStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("mount"), naming: "mount(\"none\", \"/tmp\", \"tmpfs\"")
    }

    /// openat2 and the other file calls are in the file service's filter only.
    func testOpenat2StopsAnyDomainButTheFileService() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("openat2"), naming: "openat2")
    }

    func testUnshareStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("unshare"), naming: "unshare(CLONE_NEWUSER|CLONE_NEWNS)")
    }

    func testSetnsStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("setns"), naming: "setns(3, CLONE_NEWNET)")
    }

    func testChrootStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("chroot"), naming: "chroot(\"/\")")
    }

    func testIoUringSetupStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("io-uring-setup"), naming: "io_uring_setup(8, ")
    }

    func testBpfStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("bpf"), naming: "bpf(BPF_PROG_LOAD, ")
    }

    func testPerfEventOpenStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("perf-event-open"), naming: "perf_event_open(..., 0, -1, -1, 0x0)")
    }

    func testKeyctlStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("keyctl"), naming: "keyctl(KEYCTL_GET_KEYRING_ID")
    }

    func testAddKeyStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("add-key"), naming: "add_key(\"user\", \"nk-hostile\"")
    }

    func testUserfaultfdStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("userfaultfd"), naming: "userfaultfd(O_CLOEXEC|O_NONBLOCK)")
    }

    func testMemfdCreateStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("memfd-create"), naming: "memfd_create(\"nk-hostile\", MFD_CLOEXEC)")
    }

    func testInstallingASeccompFilterStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("seccomp-filter"), naming: "seccomp(SECCOMP_SET_MODE_FILTER")
    }

    func testTerminalInjectionStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("tiocsti"), naming: "ioctl(0, TIOCSTI")
    }

    func testRaisingALimitStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("raise-limit"), naming: "prlimit64(0, RLIMIT_AS")
    }

    func testSetuidStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("setuid"), naming: "setuid(0)")
    }

    // MARK: other system-call ABIs

    func testA32BitInt80SyscallStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("int80"), naming: "i386 syscall 20 (getpid)")
    }

    func testAnX32SyscallStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("x32"), naming: "x32 syscall 39 (getpid)")
    }

    // MARK: its A-stack memfd (sealed)

    func testFtruncateOfItsAStackStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("ftruncate-astack"), naming: "ftruncate(", ", \(clockAStackBytes * 4))")
    }

    func testFtruncateOfItsAStackWithoutTheFilterHitsTheSeal() throws {
        // The seal holds on its own: the same service with its filter turned off.
        runtime.close()
        kernel.shutdown()
        kernel = KernelHarness()
        try bootHostileImage(hostileSandbox: "\n[service.sandbox]\nseccomp = false\n")
        XCTAssertEqual(try hostileSandbox()["seccomp"], "off")
        assertFails(AttackOrder("ftruncate-astack"), errno: EPERM)
        assertFails(AttackOrder("shrink-astack"), errno: EPERM)
        assertFails(AttackOrder("fallocate-astack"), errno: EPERM)
    }

    func testFallocateOfItsAStackStopsTheDomain() throws {
        try require(.seccompReport)
        assertStopped(AttackOrder("fallocate-astack"), naming: "fallocate(", ", 0, \(clockAStackBytes * 4))")
    }

    func testWritingPastTheEndOfItsAStackHitsTheSeal() throws {
        assertFails(AttackOrder("write-past-astack"), errno: EPERM)
    }

    func testMremapGrowingItsAStackGainsNothing() throws {
        // mremap may grow the domain's own view; the sealed memfd stays as it is and the
        // pages past its end are backed by nothing (EFAULT, no SIGBUS).
        assertFails(AttackOrder("mremap-astack"), errno: EFAULT, detail: "the memfd stays")
    }

    // MARK: the control plane

    func testExportingAnotherServicesInterfaceIsRefused() throws {
        assertFails(AttackOrder("export-clock"), errno: EACCES, detail: "may not export 'clock'")
        // Whoever imports clock now still gets the real one.
        let fresh = try runtime.importInterface(ClockInterface.name)
        fresh.callTimeoutSeconds = 20
        XCTAssertGreaterThan(try fresh.call(ClockInterface.now, Empty()).seconds, 1_600_000_000)
        XCTAssertEqual(try kernel.domain("hostile").exports, ["hostile"])
    }

    func testImportingAnInterfaceTheImageDoesNotAllowIsRefused() throws {
        assertFails(AttackOrder("import-bench"), errno: EACCES, detail: "may not import 'bench'")
    }

    func testAnOperatorShutdownFromAServiceCutsItOff() throws {
        assertDisconnected(AttackOrder("admin-shutdown"), because: "sent an operator request")
    }

    func testSayingHelloAgainCutsTheDomainOff() throws {
        assertDisconnected(AttackOrder("hello-again"), because: "said hello twice")
    }

    func testAcceptingABindingItWasNotOfferedCutsTheDomainOff() throws {
        // The operator's own live binding to bench.
        assertDisconnected(AttackOrder("accept-unoffered-binding", target: Int64(bench.bindingObject.index)),
                           because: "accepted a binding it was not offered")
    }

    func testGarbageOnTheControlChannelCutsTheDomainOff() throws {
        assertDisconnected(AttackOrder("control-garbage"), because: "wrote garbage on its control channel")
    }

    func testDescriptorsSentToTheKernelAreClosed() throws {
        // The hostile sends up to 64 messages with 8 copies each of its A-stack memfd
        // ("nk-astack-clock-N"). The kernel hands every A-stack memfd it creates to the
        // client and closes its own copy, so it must hold none before or after.
        XCTAssertEqual(try kernelDescriptors(naming: "nk-astack-"), [])
        assertDisconnected(AttackOrder("control-fds"), because: "wrote garbage on its control channel")
        XCTAssertEqual(try kernelDescriptors(naming: "nk-astack-"), [], "the kernel kept descriptors a domain sent it")
    }

    /// The targets of the kernel's open descriptors that contain `text`.
    private func kernelDescriptors(naming text: String) throws -> [String] {
        let directory = "/proc/\(kernelPid)/fd"
        return try FileManager.default.contentsOfDirectory(atPath: directory).compactMap {
            try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + $0)
        }.filter { $0.contains(text) }
    }

    // MARK: the call trap and the kernel's records

    func testForgedBindingObjectsAreRefused() throws {
        assertFails(AttackOrder("forged-bo"), errno: EACCES, detail: "refused(forgedBindingObject)")
        XCTAssertEqual(try kernel.domain("hostile").refusals, 2)
    }

    func testAStaleBindingObjectIsRefused() throws {
        let leaver = try kernel.connect()
        let stale = try leaver.importInterface(ClockInterface.name).bindingObject
        leaver.close()
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 10) {
            (try? self.kernel.status().domains.contains { $0.id == leaver.domainID }) == false
        })
        assertFails(AttackOrder("stale-bo", bindingObject: stale), errno: EACCES, detail: "refused(staleBindingObject)")
    }

    func testAForeignBindingObjectIsRefused() throws {
        // A live binding object of the operator's own binding to clock.
        assertFails(AttackOrder("foreign-bo", bindingObject: clock.bindingObject), errno: EACCES,
                    detail: "refused(foreignBindingObject)")
        XCTAssertGreaterThan(try clock.call(ClockInterface.now, Empty()).seconds, 0, "the owner's binding still works")
    }

    func testAFloodOfForgedTrapsIsRefusedWhileOthersAreServed() throws {
        let flood = 20_000
        final class Box: @unchecked Sendable { var result: Result<AttackOutcome, CallError>? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        Thread {
            box.result = self.attack(AttackOrder("trap-flood", target: Int64(flood)))
            done.signal()
        }.start()
        // Honest calls from the operator, to another server, all through the flood.
        var honest = 0
        var slowest: UInt64 = 0
        let deadline = monotonicNanoseconds() + 60_000_000_000
        var finished = false
        while !finished && monotonicNanoseconds() < deadline {
            let start = monotonicNanoseconds()
            XCTAssertNoThrow(try clock.call(ClockInterface.now, Empty()))
            slowest = max(slowest, monotonicNanoseconds() - start)
            honest += 1
            finished = done.wait(timeout: .now()) == .success
        }
        XCTAssertTrue(finished, "the flood did not end within 60 s")
        guard case .success(let outcome)? = box.result else { return XCTFail("the flood call failed: \(String(describing: box.result))") }
        XCTAssertEqual(outcome.errno, EACCES, outcome.detail)
        XCTAssertEqual(try kernel.domain("hostile").refusals, UInt64(flood))
        XCTAssertGreaterThan(honest, 0)
        print("trap flood: \(outcome.detail); \(honest) honest clock calls meanwhile, slowest \(slowest / 1000) µs; kernel log now \(kernel.log.utf8.count) bytes")
        XCTAssertLessThan(kernel.log.utf8.count, 500_000, "the flood flooded the kernel's log")
        // The next refusal after the rate-limit window reports how many went unlogged.
        usleep(1_100_000)
        assertFails(AttackOrder("forged-bo"), errno: EACCES)
        XCTAssertTrue(kernel.log.contains("not logged one by one"), "refusals beyond the rate limit are summed up")
    }

    func testALogLineForgedByADomainIsMarkedAsItsOwn() throws {
        guard case .success(let outcome) = attack(AttackOrder("forge-log-line")) else { return XCTFail("the attack call failed") }
        XCTAssertEqual(outcome.errno, 0, "writing to its own stderr is allowed: \(outcome.detail)")
        let forged = "[0.000001] kernel: bench: stopped by sandbox: forged by hostile"
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) { self.kernel.log.contains("hostile| \(forged)") }, kernel.log)
        XCTAssertFalse(kernel.log.split(separator: "\n").contains { $0.hasPrefix(forged) },
                       "the domain's line reached the log as if the kernel had written it")
        XCTAssertEqual(try kernel.domain("bench").state, "ready")
        assertEveryoneElseIsFine()
    }

    func testAnOutOfRangeProcedureIsRefused() throws {
        assertFails(AttackOrder("bad-procedure"), errno: EACCES, detail: "refused(unknownProcedure)")
    }

    func testAnOutOfRangeSlotIsRefused() throws {
        assertFails(AttackOrder("bad-slot"), errno: EACCES, detail: "refused(slotOutOfRange)")
    }

    func testASecondTrapOnASlotInUseIsRefused() throws {
        assertFails(AttackOrder("slot-in-use"), errno: EBUSY, detail: "slot in use")
        XCTAssertGreaterThanOrEqual(try kernel.domain("hostile").refusals, 1)
        XCTAssertTrue(kernel.log.contains("refused call from domain 'hostile'"), kernel.log)
    }

    func testGarbageInEveryTrapCellIsRefused() throws {
        assertFails(AttackOrder("garbage-traps"), errno: EACCES)
    }

    func testTheCallRecordsOfItsImportsAreOutOfReach() throws {
        assertFails(AttackOrder("records-of-imports"), errno: ENOENT)
    }

    func testScribblingOverItsCallRecordsHarmsOnlyItself() throws {
        // As a server, the domain shares its bindings' call records with the kernel and
        // may write them. The kernel reads only `done` there, so the worst a server can
        // do is hold its own slots busy: the kernel keeps validating every trap.
        let outcome = try hostile.call(HostileInterface.attack, AttackOrder("scribble-records"))
        XCTAssertTrue(outcome.detail.hasPrefix("scribbled over 1 call record regions"), outcome.detail)
        let slots = hostile.interface.astackGeometry.slotCount
        XCTAssertTrue(outcome.detail.contains("\(slots - 1) idle slots"), outcome.detail)

        // The slot that carried the attack returns to service; the kernel still refuses
        // a trap on a slot whose record the server made look busy, and forged objects.
        for _ in 0..<3 { XCTAssertEqual(try hostile.call(HostileInterface.ping, Empty()), 1) }
        XCTAssertThrowsError(try hostile.trap(procedureID: HostileInterface.ping.id, slot: 1, bindingObject: hostile.bindingObject)) {
            XCTAssertEqual($0 as? CallError, .refused(.slotInUse))
        }
        var forged = hostile.bindingObject
        forged.secret ^= 1
        XCTAssertThrowsError(try hostile.trap(procedureID: HostileInterface.ping.id, slot: 0, bindingObject: forged)) {
            XCTAssertEqual($0 as? CallError, .refused(.forgedBindingObject))
        }
        // The call records of other bindings are untouched: name still learns the
        // caller's identity from the kernel, not from anything the hostile wrote.
        _ = try names.call(NameInterface.register, InterfaceName("operator-probe"))
        XCTAssertEqual(try names.call(NameInterface.lookup, InterfaceName("operator-probe")),
                       Registration(found: true, domain: runtime.domainID))
        // A fresh binding to the hostile service works from the first call.
        let fresh = try runtime.importInterface(HostileInterface.name)
        fresh.callTimeoutSeconds = 20
        XCTAssertEqual(try fresh.call(HostileInterface.ping, Empty()), 1)
        XCTAssertEqual(try kernel.domain("hostile").state, "ready")
        assertEveryoneElseIsFine()
    }
}
