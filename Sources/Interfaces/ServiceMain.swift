// ServiceMain: the standard life of a service domain, in the binding order of LRPC:
// join the kernel, export the interface (server exports), register with the name
// service (the clerk's registry), tell the kernel it is ready, then serve.
import Glibc
import LRPC

public enum ServiceMain {
    /// `beforeExport` runs before any client can bind (the name service records itself
    /// there, so no caller ever sees its registry without it); `beforeReady` after.
    public static func run(_ service: Service, registersWithNameService: Bool = true,
                           beforeExport: (DomainRuntime) throws -> Void = { _ in },
                           beforeReady: (DomainRuntime) throws -> Void = { _ in }) -> Never {
        run(registersWithNameService: registersWithNameService, beforeExport: beforeExport, beforeReady: beforeReady) { _ in
            service
        }
    }

    /// For a service that is also a client: `make` runs once the domain has joined the
    /// kernel, so it can import the interfaces its handlers call, and returns the service
    /// to export.
    public static func run(registersWithNameService: Bool = true,
                           beforeExport: (DomainRuntime) throws -> Void = { _ in },
                           beforeReady: (DomainRuntime) throws -> Void = { _ in },
                           making make: (DomainRuntime) throws -> Service) -> Never {
        let name = getenv("NK_DOMAIN_NAME").map { String(cString: $0) } ?? "service"
        do {
            let runtime = try DomainRuntime.spawnedByKernel(name: name)
            try beforeExport(runtime)
            let service = try make(runtime)
            try runtime.export(service)
            if registersWithNameService {
                // A name service that is down or failed does not take this one down with
                // it: the import waits (bounded), and a restarted name service asks again.
                do { try register(service, with: runtime) } catch {
                    logError("\(name): not registered with the name service yet: \(error)")
                }
                runtime.onRegisterAgain = {
                    do { try register(service, with: runtime) } catch { logError("\(name): cannot register again: \(error)") }
                }
            }
            try beforeReady(runtime)
            try runtime.ready()
            runtime.run()
        } catch {
            logError("\(name): cannot start: \(error)")
            exit(1)
        }
    }

    /// How long a starting service waits for the name service to come back.
    static let registrationWaitSeconds: Double = 30

    /// Binding steps 1-2: the clerk's registry learns the interface (the binding to the
    /// name service is released when this returns).
    private static func register(_ service: Service, with runtime: DomainRuntime) throws {
        let names = try runtime.importInterface(NameInterface.name, timeoutSeconds: registrationWaitSeconds)
        _ = try names.call(NameInterface.register, InterfaceName(service.interface.name))
    }
}
