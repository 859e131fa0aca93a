// BootImageDecoder: the top level of an image file — which tables it has, and what
// [image], [operator], [[service]], [transports], [deadlines], [kernel] and [quotas] hold.

struct BootImageDecoder {
    static let tables = ["image", "operator", "service", "transports", "deadlines", "kernel", "quotas"]
    static let transportKinds = TransportKind.allCases

    let path: String
    let root: TOMLTable

    func decode() throws(ImageError) -> BootImage {
        guard !root.isEmpty else {
            throw failure(line: 1, field: "", "the image is empty: it needs an [image] table and at least one [[service]]")
        }
        try rejectUnknownTables()
        let name = try decodeImageName()
        let operatorImports = try decodeOperatorImports()
        let services = try decodeServices()
        let transports = try decodeTransports()
        let requires = try decodeRequires()
        let domainIDs = try decodeDomainIDs()
        let quotas = try decodeQuotas()
        let deadlines = try decodeDeadlines()
        try ImageReferenceCheck(path: path, services: services)
            .check(operatorImports: operatorImports, transports: transports.map(\.interface),
                   deadlines: deadlines.map(\.interface))
        var image = BootImage(
            path: path, name: name, services: services.map(\.entry),
            operatorImports: operatorImports.map(\.value),
            transports: Dictionary(uniqueKeysWithValues: transports.map { ($0.interface.value, $0.kind) }),
            requires: requires, quotas: quotas,
            callDeadlines: Dictionary(uniqueKeysWithValues: deadlines.map { ($0.interface.value, $0.milliseconds) }))
        image.domainIDs = domainIDs
        return image
    }

    private func failure(line: Int, field: String, _ message: String) -> ImageError {
        ImageError(path: path, line: line, field: field, message: message)
    }

    private func rejectUnknownTables() throws(ImageError) {
        for key in root.keys where !Self.tables.contains(key) {
            let value = root[key]!
            let hint = SpellingSuggestion.hint(for: key, in: Self.tables)
            let message: String
            if case .table = value.kind {
                message = "unknown table [\(key)]\(hint)"
            } else if Self.isArrayOfTables(value) {
                message = "unknown table [[\(key)]]\(hint)"
            } else {
                // Keys above the first header belong to no table; usually a forgotten [image].
                message = "unknown field '\(key)' outside any table\(hint)"
            }
            throw failure(line: value.line, field: "", message)
        }
    }

    private static func isArrayOfTables(_ value: TOMLValue) -> Bool {
        guard case .array(let elements) = value.kind, let first = elements.first else { return false }
        if case .table = first.kind { return true }
        return false
    }

    /// A top-level table such as [image]; nil when absent.
    private func section(_ key: String) throws(ImageError) -> ImageSection? {
        guard let value = root[key] else { return nil }
        guard case .table(let table) = value.kind else {
            throw failure(line: value.line, field: key,
                          "expected a table [\(key)], got \(ImageSection.describe(value))")
        }
        return ImageSection(path: path, table: table, label: key)
    }

    private func decodeImageName() throws(ImageError) -> String {
        guard let image = try section("image") else {
            throw failure(line: 1, field: "image", "missing required table [image]")
        }
        try image.rejectUnknownKeys(allowed: ["name"])
        let name = try image.requiredString("name")
        // Shown in every status report: one short line.
        guard name.value.count <= BootImage.maximumName,
              !name.value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw image.failure("name", line: name.line,
                                "expected at most \(BootImage.maximumName) characters and no control character, got \(String(reflecting: name.value))")
        }
        return name.value
    }

    private func decodeOperatorImports() throws(ImageError) -> [Located<String>] {
        guard let operatorSection = try section("operator") else { return [] }
        try operatorSection.rejectUnknownKeys(allowed: ["imports"])
        let imports = try operatorSection.strings("imports")
        try operatorSection.rejectDuplicates(imports, "imports")
        return imports
    }

    private func decodeServices() throws(ImageError) -> [DecodedService] {
        guard let value = root["service"] else {
            throw failure(line: 1, field: "service", "no services: an image needs at least one [[service]]")
        }
        guard case .array(let elements) = value.kind else {
            throw failure(line: value.line, field: "service",
                          "expected [[service]] tables (one per service), got \(ImageSection.describe(value))")
        }
        guard !elements.isEmpty else {
            throw failure(line: value.line, field: "service", "no services: an image needs at least one [[service]]")
        }
        guard elements.count <= BootImage.maximumServices else {
            throw failure(line: value.line, field: "service",
                          "\(elements.count) services; an image holds at most \(BootImage.maximumServices)")
        }
        var services: [DecodedService] = []
        for (index, element) in elements.enumerated() {
            guard case .table(let table) = element.kind else {
                throw failure(line: element.line, field: "service[\(index + 1)]",
                              "expected a table, got \(ImageSection.describe(element))")
            }
            services.append(try ServiceEntryDecoder.decode(table, position: index + 1, path: path))
        }
        return services
    }

    /// [transports]: interface name = "lrpc" | "message".
    private func decodeTransports() throws(ImageError) -> [(interface: Located<String>, kind: TransportKind)] {
        guard let transports = try section("transports") else { return [] }
        var choices: [(interface: Located<String>, kind: TransportKind)] = []
        for interface in transports.table.keys {
            let value = transports.table[interface]!
            let kind = try transports.choice(value, interface, among: Self.transportKinds)
            choices.append((Located(value: interface, line: value.line), kind))
        }
        return choices
    }

    /// [deadlines]: interface name = default call deadline in milliseconds.
    private func decodeDeadlines() throws(ImageError) -> [(interface: Located<String>, milliseconds: Int)] {
        guard let deadlines = try section("deadlines") else { return [] }
        var choices: [(interface: Located<String>, milliseconds: Int)] = []
        for interface in deadlines.table.keys {
            let value = deadlines.table[interface]!
            let milliseconds = try deadlines.integer(value, interface, in: DefaultCallDeadline.range)
            choices.append((Located(value: interface, line: value.line), milliseconds))
        }
        return choices
    }

    /// [kernel] requires: sandbox mechanisms the host must have.
    private func decodeRequires() throws(ImageError) -> [SandboxMechanism] {
        guard let kernel = try section("kernel") else { return [] }
        try kernel.rejectUnknownKeys(allowed: ["requires", "domain_id_first", "domain_id_count"])
        let names = try kernel.strings("requires")
        try kernel.rejectDuplicates(names, "requires")
        var mechanisms: [SandboxMechanism] = []
        for name in names {
            mechanisms.append(try kernel.choice(name, "requires", among: SandboxMechanism.allCases))
        }
        return mechanisms
    }

    /// [kernel] domain_id_first and domain_id_count: the block of host ids (DomainIDBlock).
    private func decodeDomainIDs() throws(ImageError) -> DomainIDBlock {
        guard let kernel = try section("kernel") else { return DomainIDBlock() }
        let first = try kernel.integer("domain_id_first", in: 1...Int(UInt32.max - 1)) ?? Int(DomainIDBlock.defaultFirst)
        let count = try kernel.integer("domain_id_count", in: DomainIDBlock.countRange) ?? Int(DomainIDBlock.defaultCount)
        if let problem = DomainIDBlock.problem(first: first, count: count) {
            throw failure(line: root["kernel"]?.line ?? 1, field: "kernel", problem)
        }
        return DomainIDBlock(first: UInt32(first), count: UInt32(count))
    }

    /// [quotas]: each field a whole number in its range (Quotas.fields).
    private func decodeQuotas() throws(ImageError) -> Quotas {
        var quotas = Quotas()
        guard let section = try section("quotas") else { return quotas }
        try section.rejectUnknownKeys(allowed: Quotas.fields.map(\.name))
        for field in Quotas.fields {
            guard let value = section.table[field.name] else { continue }
            guard case .integer(let number) = value.kind, field.range.contains(number) else {
                throw failure(line: value.line, field: "quotas.\(field.name)",
                              "expected a whole number from \(field.range.lowerBound) to \(field.range.upperBound), got \(ImageSection.describe(value))")
            }
            quotas[keyPath: field.path] = number
        }
        return quotas
    }
}
