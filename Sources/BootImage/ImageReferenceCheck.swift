// ImageReferenceCheck: the rules that need every service at once — unique names,
// one provider per interface, and every import (service, operator or transport)
// naming an interface some service provides.

struct ImageReferenceCheck {
    let path: String
    let services: [DecodedService]

    /// Who provides an interface, and where it says so.
    private typealias Provider = (service: String, line: Int)

    func check(operatorImports: [Located<String>], transports: [Located<String>],
               deadlines: [Located<String>] = []) throws(ImageError) {
        try checkUniqueNames()
        let providers = try providersByInterface()
        for service in services {
            try checkImports(of: service, providers: providers)
        }
        for interface in operatorImports {
            try checkProvided(interface, field: "operator.imports", providers: providers)
        }
        for interface in transports {
            try checkProvided(interface, field: "transports.\(interface.value)", providers: providers)
        }
        for interface in deadlines {
            try checkProvided(interface, field: "deadlines.\(interface.value)", providers: providers)
        }
    }

    private func failure(_ field: String, line: Int, _ message: String) -> ImageError {
        ImageError(path: path, line: line, field: field, message: message)
    }

    private func checkUniqueNames() throws(ImageError) {
        var firstLines: [String: Int] = [:]
        for service in services {
            if let firstLine = firstLines[service.name.value] {
                throw failure(service.label + ".name", line: service.name.line,
                              "duplicate service name '\(service.name.value)' (first used on line \(firstLine))")
            }
            firstLines[service.name.value] = service.name.line
        }
    }

    /// An interface has one provider, or binding to it by name would be ambiguous.
    private func providersByInterface() throws(ImageError) -> [String: Provider] {
        var providers: [String: Provider] = [:]
        for service in services {
            for interface in service.provides {
                if let first = providers[interface.value] {
                    throw failure(service.label + ".provides", line: interface.line,
                                  "interface '\(interface.value)' is already provided by service '\(first.service)' (line \(first.line))")
                }
                providers[interface.value] = (service.name.value, interface.line)
            }
        }
        return providers
    }

    private func checkImports(of service: DecodedService, providers: [String: Provider]) throws(ImageError) {
        for interface in service.imports {
            // A domain calling itself through the kernel is a misconfiguration, not a binding.
            if service.provides.contains(where: { $0.value == interface.value }) {
                throw failure(service.label + ".imports", line: interface.line,
                              "service '\(service.name.value)' imports its own interface '\(interface.value)'")
            }
            try checkProvided(interface, field: service.label + ".imports", providers: providers)
        }
    }

    private func checkProvided(_ interface: Located<String>, field: String,
                               providers: [String: Provider]) throws(ImageError) {
        guard providers[interface.value] == nil else { return }
        let hint = SpellingSuggestion.hint(for: interface.value, in: providers.keys.sorted())
        throw failure(field, line: interface.line, "no service provides interface '\(interface.value)'\(hint)")
    }
}
