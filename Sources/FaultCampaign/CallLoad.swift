// CallLoad: threads that call clock, name, bench and faulty without pause, and count how
// each call ended. A call that has not ended past its deadline plus a generous slack is
// hung: the watchdog counts it once. Used in the campaign process and in client processes.
import Foundation
import Interfaces
import LRPC

/// How calls ended, summed over threads (and, in the campaign, over client processes).
struct CallCounts: Codable, Sendable {
    var calls = 0
    var results = 0
    /// Clear errors by kind: serverDied, unavailable, timedOut, stale, kernelGone, procedureFailed,
    /// serviceError (a declared error such as FileError).
    var clearErrors: [String: Int] = [:]
    /// Errors whose text would not help a person (a raw Swift description), with samples.
    var unclearErrors = 0
    var unclearSamples: [String] = []
    /// Wrong answers (bench.add that did not add up), with samples.
    var wrongResults = 0
    var wrongSamples: [String] = []
    var hung = 0

    mutating func add(_ other: CallCounts) {
        calls += other.calls
        results += other.results
        for (k, v) in other.clearErrors { clearErrors[k, default: 0] += v }
        unclearErrors += other.unclearErrors
        unclearSamples += other.unclearSamples.prefix(max(0, 5 - unclearSamples.count))
        wrongResults += other.wrongResults
        wrongSamples += other.wrongSamples.prefix(max(0, 5 - wrongSamples.count))
        hung += other.hung
    }

    var errors: Int { clearErrors.values.reduce(0, +) + unclearErrors }
}

final class CallLoad: @unchecked Sendable {
    static let deadlineSeconds = 2.0
    /// A call still running this long after its deadline is hung.
    static let hungAfterSeconds = deadlineSeconds + 8

    private let runtime: DomainRuntime
    private let lock = NSLock()
    private var counts = CallCounts()
    private var inFlightSince: [UInt64] = []
    private var countedHung: [Bool] = []
    private var stopping = false
    private var finished = 0
    private let threads: Int

    init(runtime: DomainRuntime, threads: Int) {
        self.runtime = runtime
        self.threads = threads
        inFlightSince = Array(repeating: 0, count: threads)
        countedHung = Array(repeating: false, count: threads)
    }

    func start() {
        for i in 0..<threads {
            let thread = Thread { [self] in work(i) }
            thread.stackSize = 1 << 20
            thread.start()
        }
        Thread { [self] in watch() }.start()
    }

    /// Stop the workers and wait (bounded) for each to finish its call.
    func stop() {
        lock.withLock { stopping = true }
        _ = waitUntil(seconds: Self.hungAfterSeconds + 2) { self.lock.withLock { self.finished == self.threads } }
    }

    var snapshot: CallCounts { lock.withLock { counts } }

    private func work(_ i: Int) {
        let clock = ServiceConnection(runtime: runtime, interface: ClockInterface.name)
        let names = ServiceConnection(runtime: runtime, interface: NameInterface.name)
        let bench = ServiceConnection(runtime: runtime, interface: BenchInterface.name)
        let faulty = ServiceConnection(runtime: runtime, interface: FaultyInterface.name)
        let files = ServiceConnection(runtime: runtime, interface: FileInterface.name)
        // Each thread its own file: what it last wrote is what it must read back, across
        // restarts of the file service (a write is a durable replace). After a write that
        // failed or timed out (the server may still finish it later) it moves to a new file.
        var fileGeneration = 0
        var path: String { "campaign/\(getpid())-\(i)-\(fileGeneration).txt" }
        var generator = SystemRandomNumberGenerator()
        while !lock.withLock({ stopping }) {
            lock.withLock { inFlightSince[i] = monotonicNanoseconds(); countedHung[i] = false }
            let outcome: Result<Bool, Error>
            var wrong = ""
            let a = Int32.random(in: -1000...1000, using: &generator), b = Int32.random(in: -1000...1000, using: &generator)
            do {
                switch Int.random(in: 0..<5, using: &generator) {
                case 0:
                    let now = try clock.call(ClockInterface.now, Empty(), timeoutSeconds: Self.deadlineSeconds)
                    wrong = "clock.now \(now)"
                    outcome = .success(now.seconds > 0)
                case 1:
                    let list = try names.call(NameInterface.list, Empty(), timeoutSeconds: Self.deadlineSeconds).names
                    wrong = "name.list \(list)"
                    outcome = .success(list.contains("name"))
                case 2:
                    let sum = try bench.call(BenchInterface.add, AddArguments(a, b), timeoutSeconds: Self.deadlineSeconds)
                    wrong = "bench.add(\(a), \(b)) = \(sum)"
                    outcome = .success(sum == a &+ b)
                case 3:
                    _ = try faulty.call(FaultyInterface.null, Empty(), timeoutSeconds: Self.deadlineSeconds)
                    outcome = .success(true)
                default:
                    // Write and read back within one deadline: this iteration is one call to the watchdog.
                    let deadline = CallDeadline(seconds: Self.deadlineSeconds)
                    let bytes = Array("\(a) \(b) \(monotonicNanoseconds())".utf8)
                    do {
                        _ = try files.call(FileInterface.write, WholeFile(path: path, data: bytes), timeoutSeconds: deadline.remainingSeconds)
                    } catch {
                        fileGeneration += 1
                        throw error
                    }
                    let back = try files.call(FileInterface.read, PathArgument(path),
                                              timeoutSeconds: max(deadline.remainingSeconds, 0.001))
                    wrong = "file.read(\(path)) = \(back.data.bytes.count) bytes, not the \(bytes.count) written"
                    outcome = .success(back.data.bytes == bytes)
                }
            } catch {
                outcome = .failure(error)
            }
            lock.withLock {
                inFlightSince[i] = 0
                counts.calls += 1
                switch outcome {
                case .success(true): counts.results += 1
                case .success(false):
                    counts.wrongResults += 1
                    if counts.wrongSamples.count < 5 { counts.wrongSamples.append(wrong) }
                case .failure(let error): classify(error)
                }
            }
            if case .failure = outcome { usleep(UInt32.random(in: 1_000...20_000, using: &generator)) }
        }
        lock.withLock { finished += 1 }
    }

    /// Called with the lock held.
    private func classify(_ error: Error) {
        let text = "\(error)"
        let kind: String?
        switch error as? CallError {
        case .serverDied: kind = "serverDied"
        case .unavailable: kind = "unavailable"
        case .timedOut: kind = "timedOut"
        case .refused(.staleBindingObject): kind = "stale"
        case .kernelGone: kind = "kernelGone"
        case .procedureFailed: kind = "procedureFailed"
        case .serviceError: kind = "serviceError"
        default: kind = nil
        }
        // A clear error names what happened in words; raw enum dumps and Swift request
        // descriptions are not clear.
        if let kind, !text.contains("request:"), !text.contains("importInterface(") {
            counts.clearErrors[kind, default: 0] += 1
        } else {
            counts.unclearErrors += 1
            if counts.unclearSamples.count < 5 { counts.unclearSamples.append(String(text.prefix(200))) }
        }
    }

    private func watch() {
        while !lock.withLock({ stopping && finished == threads }) {
            usleep(250_000)
            lock.withLock {
                let now = monotonicNanoseconds()
                for i in 0..<threads where inFlightSince[i] != 0 && !countedHung[i] && now > inFlightSince[i]
                    && Double(now - inFlightSince[i]) / 1e9 > Self.hungAfterSeconds {
                    countedHung[i] = true
                    counts.hung += 1
                }
            }
        }
    }
}

func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = monotonicNanoseconds() + UInt64(seconds * 1e9)
    while monotonicNanoseconds() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// Set by SIGUSR1: the campaign is over, finish the calls in flight and report.
nonisolated(unsafe) var clientShouldStop: sig_atomic_t = 0

/// A client process: its own domain, its own threads; prints its counts every 200 ms
/// (a killed client's last line still counts).
enum ClientProcess {
    static func run(socketPath: String, seconds: Double, threads: Int) -> Never {
        signal(SIGUSR1) { _ in clientShouldStop = 1 }
        guard let runtime = try? DomainRuntime.connect(socketPath: socketPath, name: "campaign-client") else {
            print("client: cannot connect")
            exit(1)
        }
        let load = CallLoad(runtime: runtime, threads: threads)
        load.start()
        let end = monotonicNanoseconds() + UInt64(seconds * 1e9)
        let encoder = JSONEncoder()
        func report() {
            if let data = try? encoder.encode(load.snapshot) { print("counts " + String(decoding: data, as: UTF8.self)) }
        }
        while monotonicNanoseconds() < end && clientShouldStop == 0 {
            usleep(200_000)
            report()
        }
        load.stop()
        report()
        runtime.close()
        exit(0)
    }
}
