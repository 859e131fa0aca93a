// SandboxFilter: a domain's seccomp allow-list, compiled once in the kernel.
import CSandbox

/// The BPF program (base allow-list plus an image's extra syscalls). Immutable once
/// built, so one filter can serve every domain with the same grants, from any thread.
final class SandboxFilter: @unchecked Sendable {
    /// Stable address: nk_spawn_spec points at it.
    let raw: UnsafeMutablePointer<nk_filter>
    let extraSyscalls: [String]

    /// `watchPaths` (learning mode): calls that name a path reach the kernel even where
    /// allowed, so it can see each path.
    init(extraSyscalls: [String] = [], watchPaths: Bool = false) throws(SandboxError) {
        let raw = UnsafeMutablePointer<nk_filter>.allocate(capacity: 1)
        raw.initialize(to: nk_filter())
        var error = [CChar](repeating: 0, count: 512)
        let names = CStringArray(extraSyscalls)
        let result = nk_filter_build(names.constPointers, Int32(extraSyscalls.count), watchPaths ? 1 : 0, raw,
                                     &error, error.count)
        guard result == 0 else {
            raw.deallocate()
            throw SandboxError("seccomp filter: \(stringFromCBuffer(error))")
        }
        self.raw = raw
        self.extraSyscalls = extraSyscalls
    }

    deinit {
        nk_filter_free(raw)
        raw.deallocate()
    }

    var instructionCount: Int { Int(raw.pointee.instructions) }
    /// True when a refused call is reported through the domain's notify fd; false when
    /// the host lacks notifications and a refused call kills the domain outright.
    var notifies: Bool { raw.pointee.notify != 0 }
}
