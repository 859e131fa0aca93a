// FuzzRandom: the fuzzer's only source of randomness, a SplitMix64 stream from one seed,
// so every run is reproduced exactly by its seed (printed by every fuzz test).
public struct FuzzRandom: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    public mutating func below(_ n: Int) -> Int { Int(next(in: 0..<UInt64(max(n, 1)))) }
    public mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    public mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    private mutating func next(in range: Range<UInt64>) -> UInt64 { range.lowerBound + next() % (range.upperBound - range.lowerBound) }

    /// Values that sit on the edges parsers get wrong: zero, one, signs, powers of two,
    /// the bounds the ABI names (65536 string bytes, 1 << 20 A-stack bytes, 256 procedures).
    public mutating func edgeWord() -> UInt32 {
        pick([0, 1, 2, 7, 8, 31, 32, 33, 63, 64, 255, 256, 257, 4095, 4096, 65535, 65536, 65537,
              1 << 20, (1 << 20) + 1, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff, UInt32(truncatingIfNeeded: next())])
    }

    /// A string of printable text, control characters, invalid UTF-8 or edge lengths.
    public mutating func hostileString(maximum: Int = 96) -> String {
        switch below(5) {
        case 0: return ""
        case 1: return String(decoding: bytes(below(maximum)), as: UTF8.self)
        case 2: return String((0..<below(maximum)).map { _ in Character(Unicode.Scalar(UInt8(32 + below(95)))) })
        case 3: return pick(["clock", "bench", "name", "hostile", "kernel", "status", "\u{1b}[2J", "x\n[0.0] kernel: forged", "../..", "%s%n"])
        default: return String(repeating: "a", count: pick([64, 65, 255, 256, 4096]))
        }
    }
}
