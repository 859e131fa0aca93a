// DomainIDBlock: the host uids and gids a root kernel gives its domains ([kernel]
// domain_id_first, domain_id_count). Linux keeps several counters per user (threads
// against RLIMIT_NPROC, SCM_RIGHTS descriptors in flight, pipe pages, inotify watches,
// pending signals), so domains that shared one uid could exhaust them for each other.
// Each service gets an id of its own in the block, the same on every boot and restart,
// so files it wrote in its read_write grants stay its own.

public struct DomainIDBlock: Sendable, Equatable {
    /// 0x70000000-0x7000FFFF: above the range systemd hands to containers
    /// (524288-1879048191) and below 2^31, which tools that store uids signed mishandle;
    /// systemd documents it as unused, and dynamic users (61184-65519) are far below.
    public static let defaultFirst: UInt32 = 0x7000_0000
    public static let defaultCount: UInt32 = 65536
    /// A block must hold every service of the largest image with room to spare for the
    /// probing below; at most 2^24 ids.
    public static let countRange: ClosedRange<Int> = 256...(1 << 24)

    public var first: UInt32 = defaultFirst
    public var count: UInt32 = defaultCount

    public init(first: UInt32 = defaultFirst, count: UInt32 = defaultCount) {
        self.first = first
        self.count = count
    }

    public var range: ClosedRange<UInt32> { first...(first + count - 1) }

    /// Why `first` and `count` make no usable block, or nil. Never root (0), never the
    /// overflow ids 65534/65535 ("nobody", what unmapped ids show as), never (uid_t)-1.
    public static func problem(first: Int, count: Int) -> String? {
        guard countRange.contains(count) else {
            return "domain_id_count must be from \(countRange.lowerBound) to \(countRange.upperBound), got \(count)"
        }
        guard first >= 1, first + count - 1 <= Int(UInt32.max) - 1 else {
            return "the block \(first)...\(first + count - 1) must lie within 1...\(UInt32.max - 1)"
        }
        if (first...(first + count - 1)).overlaps(65534...65535) {
            return "the block \(first)...\(first + count - 1) holds the overflow ids 65534/65535 (nobody)"
        }
        return nil
    }

    /// One id per service name: FNV-1a of the name picks a slot; a slot already taken
    /// moves to the next free one. Names are placed in sorted order, so the result
    /// depends only on the set of names, not on their order in the image: adding a
    /// service moves an existing one only if their hashes collide (1 in `count`).
    public func ids(for names: [String]) -> [String: UInt32] {
        var taken = Set<UInt32>()
        var ids: [String: UInt32] = [:]
        for name in Set(names).sorted() {
            var slot = Self.hash(name) % count
            while taken.contains(slot) { slot = (slot + 1) % count }
            taken.insert(slot)
            ids[name] = first + slot
        }
        return ids
    }

    /// 32-bit FNV-1a: stable across runs and builds (Swift's Hasher is seeded per process).
    static func hash(_ name: String) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        for byte in name.utf8 { h = (h ^ UInt32(byte)) &* 16_777_619 }
        return h
    }
}
