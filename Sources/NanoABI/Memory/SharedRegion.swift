// SharedRegion: a sealed memfd mapped MAP_SHARED. The kernel creates every region;
// domains receive the fd over their control channel and map it.
import CNanoKernel
import Glibc
import SystemPackage

public final class SharedRegion: @unchecked Sendable {
    /// The memfd, kept by its creator to hand on; nil where the mapping alone is needed
    /// (a domain's mappings cost it no descriptor: a client cannot exhaust a server's).
    public let descriptor: FileDescriptor?
    public var fd: FileDescriptor { descriptor! }
    public let size: Int
    public let base: UnsafeMutableRawPointer

    /// Create a new sealed region (kernel side). Its bytes start zeroed.
    public static func create(name: String, size: Int) throws -> SharedRegion {
        let raw = nk_memfd_sealed(name, size)
        guard raw >= 0 else { throw SystemError("memfd_create \(name)") }
        return try SharedRegion(mapping: FileDescriptor(rawValue: raw), size: size, keepingDescriptor: true)
    }

    /// Map a region received from the kernel; takes ownership of `fd`, and closes it once
    /// mapped unless `keepingDescriptor`.
    public init(mapping fd: FileDescriptor, size: Int, keepingDescriptor: Bool = false) throws {
        var mapped = false
        defer { if !keepingDescriptor || !mapped { try? fd.close() } }
        var st = stat()
        guard fstat(fd.rawValue, &st) == 0 else { throw SystemError("fstat shared region") }
        guard Int(st.st_size) >= size else {
            throw ControlError("shared region is \(st.st_size) bytes, expected \(size)")
        }
        let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.rawValue, 0)
        guard let p, p != MAP_FAILED else { throw SystemError("mmap shared region") }
        mapped = true
        self.descriptor = keepingDescriptor ? fd : nil
        self.size = size
        self.base = p
    }

    deinit {
        munmap(base, size)
        try? descriptor?.close()
    }

    /// The 32-bit word at `offset`, for atomics and futexes.
    @inlinable @inline(__always)
    public func word(_ offset: Int) -> SharedWord { SharedWord(at: base + offset) }
}

/// Round `n` up to a multiple of the cache line, so shared words never share a line
/// with a peer's words by accident.
@inlinable @inline(__always)
public func cacheLineRounded(_ n: Int) -> Int { (n + 63) & ~63 }
