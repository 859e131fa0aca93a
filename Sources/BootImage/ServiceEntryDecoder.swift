// ServiceEntryDecoder: one [[service]] table, with its [service.sandbox], into a ServiceEntry.
//
// Checks what one service can check about itself; what needs all services at
// once (unique names, who provides what) is ImageReferenceCheck's job.

/// A decoded service, plus where its names were written, for the cross-checks.
struct DecodedService {
    var entry: ServiceEntry
    /// How messages name it: "service 'clock'", or "service[2]" while its name is unusable.
    var label: String
    var name: Located<String>
    var provides: [Located<String>]
    var imports: [Located<String>]
}

enum ServiceEntryDecoder {
    static let fields = ["name", "executable", "arguments", "provides", "imports", "restart", "registry", "supervision", "sandbox", "file"]
    static let sandboxFields = [
        "extra_syscalls", "read_only", "read_write", "memory_mib", "open_files", "processes", "seccomp",
    ]
    static let restartPolicies: [RestartPolicy] = [.never, .onFailure, .always]

    /// `position` counts from 1, as a person counts the [[service]] blocks in the file.
    static func decode(_ table: TOMLTable, position: Int, path: String) throws(ImageError) -> DecodedService {
        let service = ImageSection(path: path, table: table, label: label(for: table, position: position))
        try service.rejectUnknownKeys(allowed: fields)
        let name = try service.requiredString("name")
        guard isServiceName(name.value) else {
            throw service.failure("name", line: name.line,
                                  "expected a name matching [a-z][a-z0-9-]*, got \(String(reflecting: name.value))")
        }
        guard name.value.utf8.count <= maximumServiceName else {
            throw service.failure("name", line: name.line,
                                  "is \(name.value.utf8.count) characters long; at most \(maximumServiceName)")
        }
        var entry = ServiceEntry(name: name.value, executable: try service.requiredString("executable").value)
        entry.line = table.line
        entry.arguments = try service.strings("arguments").map(\.value)
        let provides = try interfaceList("provides", in: service)
        let imports = try interfaceList("imports", in: service)
        entry.provides = provides.map(\.value)
        entry.imports = imports.map(\.value)
        entry.restart = try service.choice("restart", among: restartPolicies) ?? entry.restart
        entry.isRegistry = try service.boolean("registry") ?? false
        if let supervision = try service.subsection("supervision", label: service.label + ".supervision") {
            entry.supervision = try SupervisionDecoder.decode(supervision)
        }
        if let sandbox = try service.subsection("sandbox", label: service.label + ".sandbox") {
            entry.sandbox = try decodeSandbox(sandbox)
        }
        if let file = try service.subsection("file", label: service.label + ".file") {
            entry.fileStore = try FileStoreDecoder.decode(file)
        }
        return DecodedService(entry: entry, label: service.label, name: name, provides: provides, imports: imports)
    }

    /// Named by its name when it has a usable one: that is what the reader searches for.
    private static func label(for table: TOMLTable, position: Int) -> String {
        if case .string(let name)? = table["name"]?.kind, isServiceName(name) { return "service '\(name)'" }
        return "service[\(position)]"
    }

    /// The longest service name: it names the domain's process, its trap page and its log lines.
    static let maximumServiceName = 32

    /// `[a-z][a-z0-9-]*`: safe in paths, process names and messages without quoting.
    static func isServiceName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    private static func interfaceList(_ key: String, in service: ImageSection) throws(ImageError) -> [Located<String>] {
        let interfaces = try service.strings(key)
        for interface in interfaces where interface.value.isEmpty {
            throw service.failure(key, line: interface.line, "interface names must not be empty")
        }
        for interface in interfaces where !isInterfaceName(interface.value) {
            throw service.failure(key, line: interface.line,
                                  "expected an interface name of letters, digits, '.', '_' and '-' (at most \(maximumInterfaceName), starting with a letter or digit), got \(String(reflecting: interface.value))")
        }
        try service.rejectDuplicates(interfaces, key)
        return interfaces
    }

    /// What the name service accepts (NameInterface.problem): a provided interface must
    /// be registrable.
    static let maximumInterfaceName = 32

    static func isInterfaceName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        func isAlphanumeric(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) || (0x61...0x7a).contains(b | 0x20) }
        guard let first = bytes.first, bytes.count <= maximumInterfaceName, isAlphanumeric(first) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == 0x2e || $0 == 0x5f || $0 == 0x2d }
    }

    // MARK: Sandbox

    private static func decodeSandbox(_ sandbox: ImageSection) throws(ImageError) -> SandboxGrant {
        try sandbox.rejectUnknownKeys(allowed: sandboxFields)
        var grant = SandboxGrant()
        grant.extraSyscalls = try syscallNames("extra_syscalls", in: sandbox)
        grant.readOnlyPaths = try absolutePaths("read_only", in: sandbox)
        grant.readWritePaths = try absolutePaths("read_write", in: sandbox)
        let paths = grant.readOnlyPaths.count + grant.readWritePaths.count
        guard paths <= SandboxGrant.maximumPaths else {
            throw sandbox.failure(nil, line: sandbox.table.line,
                                  "grants \(paths) read_only and read_write paths; at most \(SandboxGrant.maximumPaths) in all")
        }
        grant.memoryLimitMiB = try sandbox.positiveInteger("memory_mib", atMost: SandboxGrant.maximumMemoryMiB)
            ?? grant.memoryLimitMiB
        grant.openFilesLimit = try sandbox.positiveInteger("open_files", atMost: SandboxGrant.maximumOpenFiles)
            ?? grant.openFilesLimit
        grant.processesLimit = try sandbox.positiveInteger("processes", atMost: SandboxGrant.maximumProcesses)
            ?? grant.processesLimit
        grant.seccomp = try sandbox.boolean("seccomp") ?? grant.seccomp
        return grant
    }

    /// Landlock rules are anchored at absolute paths; a relative one would depend on the kernel's cwd.
    private static func absolutePaths(_ key: String, in sandbox: ImageSection) throws(ImageError) -> [String] {
        let paths = try sandbox.strings(key)
        for path in paths where !path.value.hasPrefix("/") {
            throw sandbox.failure(key, line: path.line, "expected an absolute path, got \(String(reflecting: path.value))")
        }
        return paths.map(\.value)
    }

    /// Syscall names are lower-case identifiers; catching a stray space here beats a
    /// seccomp filter that silently allows nothing.
    private static func syscallNames(_ key: String, in sandbox: ImageSection) throws(ImageError) -> [String] {
        let names = try sandbox.strings(key)
        for name in names where !isSyscallName(name.value) {
            throw sandbox.failure(key, line: name.line,
                                  "expected a system call name such as \"clock_nanosleep\", got \(String(reflecting: name.value))")
        }
        return names.map(\.value)
    }

    private static func isSyscallName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
