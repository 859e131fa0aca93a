// nk-tenant: test-only; a service whose only job is to use the file service as itself
// (see Interfaces/FileTenant.swift). Not part of the default image.
import Glibc
import Interfaces
import LRPC

final class Tenant: @unchecked Sendable {
    var runtime: DomainRuntime?
    private let monitor = Monitor()
    private var client: FileClient?

    /// Imported on first use: the file service may start after this one.
    func files() throws -> FileClient {
        try monitor.locked {
            if let client { return client }
            let fresh = try FileClient(importingFrom: runtime!)
            client = fresh
            return fresh
        }
    }
}

let tenant = Tenant()
let name = getenv("NK_DOMAIN_NAME").map { String(cString: $0) } ?? "tenant"
let service = Service(interface: name)
service.handle(FileTenantInterface.write) { a, _ in
    try tenant.files().write(a.path.text, a.data.bytes)
    return Empty()
}
service.handle(FileTenantInterface.read) { a, _ in try tenant.files().read(a.path.text).data }
service.handle(FileTenantInterface.list) { a, _ in
    BoundedText(try tenant.files().list(a.path.text).map(\.name).joined(separator: "\n"))
}
ServiceMain.run(service) { tenant.runtime = $0 }
