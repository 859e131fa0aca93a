// ServiceExecutable: the checks on a service's executable before the kernel spawns it,
// so a wrong file fails with the service, the path and the cause instead of a sandbox
// step's errno. A dynamically linked program is the common case: its dynamic loader
// (PT_INTERP) would have to open shared libraries, which the sandbox forbids, so the
// domain would die before main.
import Glibc
import LRPC

enum ServiceExecutable {
    /// Throws a ControlError naming `service`, `path` and what is wrong with the file.
    static func check(_ path: String, service: String) throws {
        func refuse(_ cause: String) -> ControlError {
            ControlError("service '\(service)': executable \(path) \(cause)")
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw refuse(errno == ENOENT
                ? "does not exist (build it first: `swift build`; a bare name is looked up in the service directory, a relative path in the image's folder)"
                : "cannot be examined: \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw refuse("is not a regular file") }
        guard access(path, X_OK) == 0 else { throw refuse("is not executable (chmod +x)") }
        if let interpreter = try dynamicLoader(path, refuse) {
            throw refuse("is dynamically linked (it asks for the loader \(interpreter)); the sandbox stops a domain "
                + "from opening shared libraries, so link it with -static-executable "
                + "(linkerSettings: [.unsafeFlags([\"-static-executable\"])], see docs/writing-a-service.md)")
        }
    }

    /// The PT_INTERP path of a 64-bit little-endian ELF file, or nil for a static one.
    static func dynamicLoader(_ path: String, _ refuse: (String) -> ControlError) throws -> String? {
        guard let file = fopen(path, "rb") else { throw refuse("cannot be opened: \(String(cString: strerror(errno)))") }
        defer { fclose(file) }
        func read(_ count: Int, at offset: UInt64) -> [UInt8]? {
            var bytes = [UInt8](repeating: 0, count: count)
            guard fseeko(file, off_t(offset), SEEK_SET) == 0, fread(&bytes, 1, count, file) == count else { return nil }
            return bytes
        }
        func word<T: FixedWidthInteger>(_ bytes: [UInt8], _ at: Int, _: T.Type) -> T {
            bytes[at..<(at + MemoryLayout<T>.size)].reversed().reduce(T.zero) { $0 << 8 | T($1) }
        }
        guard let header = read(64, at: 0), header[0..<4] == [0x7f, 0x45, 0x4c, 0x46] else {
            throw refuse("is not an ELF program (a script cannot run as a domain: its interpreter is outside the sandbox)")
        }
        guard header[4] == 2, header[5] == 1 else { throw refuse("is not a 64-bit little-endian ELF program") }
        let tableOffset = word(header, 32, UInt64.self)
        let entrySize = Int(word(header, 54, UInt16.self))
        let count = Int(word(header, 56, UInt16.self))
        guard entrySize >= 56, count <= 256 else { throw refuse("has a malformed ELF program header table") }
        for i in 0..<count {
            guard let entry = read(entrySize, at: tableOffset + UInt64(i * entrySize)) else {
                throw refuse("has a truncated ELF program header table")
            }
            guard word(entry, 0, UInt32.self) == 3 else { continue }  // PT_INTERP
            let offset = word(entry, 8, UInt64.self), size = min(Int(word(entry, 32, UInt64.self)), 4096)
            let name = read(size, at: offset).map { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            return name ?? "(unreadable)"
        }
        return nil
    }
}
