// The call path's small pieces, in-process, no kernel: the stub copy (client step 2 and
// the server stub's copy-out), the kernel's per-trap checks (kernel steps 1-3) and the
// client's slot and trap-cell queues (client steps 1 and 3). Each benchmark runs 1000
// operations per iteration and reports per operation (the `*` columns).
import Benchmark
import Interfaces
@_spi(Benchmarks) import LRPC
@_spi(Benchmarks) import NanoKernel

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        timeUnits: .nanoseconds,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000,
        // Nanosecond timings on a shared machine move by several percent; a new
        // allocation on the call path is a regression at any size.
        thresholds: [
            .wallClock: .init(relative: BenchmarkThresholds.Relative.relaxed),
            .mallocCountTotal: .init(absolute: BenchmarkThresholds.Absolute.strict),
        ])

    // MARK: stub copy: AStackWriter / AStackReader on a procedure-sized buffer

    let buffer = UnsafeMutableRawBufferPointer.allocate(
        byteCount: BenchInterface.bigInOut.descriptor.astackSize, alignment: 64)
    let add = AddArguments(2, 3)
    let payload = BoundedBytes<200>([UInt8](repeating: 0xA5, count: BenchInterface.payloadSize))

    Benchmark("StubCopy.write AddArguments") { benchmark in
        for _ in benchmark.scaledIterations {
            var writer = AStackWriter(buffer)
            try add.write(to: &writer)
            blackHole(writer.offset)
        }
    }
    Benchmark("StubCopy.read AddArguments") { benchmark in
        var writer = AStackWriter(buffer)
        try add.write(to: &writer)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var reader = AStackReader(UnsafeRawBufferPointer(buffer))
            blackHole(try AddArguments(from: &reader))
        }
    }
    Benchmark("StubCopy.write BoundedBytes<200>") { benchmark in
        for _ in benchmark.scaledIterations {
            var writer = AStackWriter(buffer)
            try payload.write(to: &writer)
            blackHole(writer.offset)
        }
    }
    Benchmark("StubCopy.read BoundedBytes<200>") { benchmark in
        var writer = AStackWriter(buffer)
        try payload.write(to: &writer)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var reader = AStackReader(UnsafeRawBufferPointer(buffer))
            blackHole(try BoundedBytes<200>(from: &reader))
        }
    }

    // MARK: generated (@AStackValue) against hand-written copy code

    generatedCopyBenchmarks()

    // MARK: validation: the kernel's checks on one trap, on real kernel objects

    let bench = InterfaceDescriptor(name: BenchInterface.name, procedures: BenchInterface.all)
    let calls = try! CallPathProbe(interface: bench, procedure: BenchInterface.add.id)

    Benchmark("Validation.accepted trap") { benchmark in
        blackHole(calls.validate(iterations: benchmark.scaledIterations.count))
    }
    Benchmark("Validation.forged binding object") { benchmark in
        blackHole(calls.validate(iterations: benchmark.scaledIterations.count, forged: true))
    }

    // MARK: slot allocation: the client's process-local queues

    let queues = try! SlotQueueProbe(interface: bench)

    Benchmark("SlotQueue.A-stack slot acquire+release") { benchmark in
        blackHole(queues.cycleSlots(iterations: benchmark.scaledIterations.count))
    }
    Benchmark("SlotQueue.trap cell acquire+release") { benchmark in
        blackHole(queues.cycleCells(iterations: benchmark.scaledIterations.count))
    }
}
