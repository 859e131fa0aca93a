// SlotQueueProbe: the client's process-local queues (A-stack slots of a binding, trap
// cells of the domain) on real objects, in-process and without a running kernel, for
// the benchmark suite in Benchmarks/. Not LRPC API: only `@_spi(Benchmarks) import LRPC`
// sees it.

@_spi(Benchmarks)
public final class SlotQueueProbe: @unchecked Sendable {
    /// The kernel's end of the runtime's control channel: kept open, never read.
    let kernelEnd: ControlChannel
    let runtime: DomainRuntime
    let binding: ClientBinding

    public init(interface: InterfaceDescriptor) throws {
        let (kernelEnd, domainEnd) = try ControlChannel.pair()
        // The welcome (with the trap page) is queued before the runtime says hello.
        let page = try SharedRegion.create(name: "probe-trap", size: TrapPage.size)
        try kernelEnd.send(.welcome(domainID: 1, domainName: "probe"), descriptors: [page.fd])
        runtime = try DomainRuntime(channel: ControlChannel(fd: domainEnd), name: "probe")
        let geometry = interface.astackGeometry
        let region = try SharedRegion.create(name: "probe-astacks", size: geometry.regionSize)
        binding = ClientBinding(runtime: runtime, bindingObject: BindingObject(index: 0, generation: 1, secret: 1),
                                astacks: AStackRegion(region: region, geometry: geometry), messages: nil,
                                interface: interface, callTimeoutSeconds: 10)
        self.kernelEnd = kernelEnd
    }

    /// Dequeue and requeue an A-stack slot (client step 1 and its release), `iterations`
    /// times. Returns the sum of the slots taken.
    @inline(never)
    public func cycleSlots(iterations: Int) -> Int {
        var sum = 0
        let deadline = CallDeadline(seconds: 10)
        for _ in 0..<iterations {
            guard let slot = try? binding.acquireSlot(deadline) else { return -1 }
            sum &+= slot
            binding.releaseSlot(slot)
        }
        return sum
    }

    /// Take and give back a trap cell (client step 3's allocation), `iterations` times.
    @inline(never)
    public func cycleCells(iterations: Int) -> Int {
        var sum = 0
        for _ in 0..<iterations {
            let cell = runtime.acquireCell()
            sum &+= cell
            runtime.releaseCell(cell)
        }
        return sum
    }
}
