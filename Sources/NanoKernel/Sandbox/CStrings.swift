// C strings across the CSandbox boundary: arrays the C side reads, arrays it fills.
import Glibc

/// NULL-terminated C string arrays (argv, envp, path lists) owned for as long as needed.
public final class CStringArray {
    private let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    public let count: Int

    public init(_ strings: [String]) {
        count = strings.count
        pointers = .allocate(capacity: strings.count + 1)
        for (i, string) in strings.enumerated() { (pointers + i).initialize(to: strdup(string)) }
        (pointers + count).initialize(to: nil)
    }

    deinit {
        for i in 0..<count { free(pointers[i]) }
        pointers.deallocate()
    }

    /// As `char *const *` (argv, envp).
    public var mutablePointers: UnsafePointer<UnsafeMutablePointer<CChar>?> { UnsafePointer(pointers) }
    /// As `const char *const *` (path and name lists).
    public var constPointers: UnsafePointer<UnsafePointer<CChar>?> {
        UnsafeRawPointer(pointers).assumingMemoryBound(to: UnsafePointer<CChar>?.self)
    }
}

/// The text of a fixed-size, NUL-terminated C char array imported as a tuple.
func stringFromCArray<T>(_ array: T) -> String {
    withUnsafeBytes(of: array) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
}

/// The text in an error buffer the C side filled.
func stringFromCBuffer(_ buffer: [CChar]) -> String {
    buffer.withUnsafeBytes { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
}
