// nk-hostile: a test-only service that attacks from inside its own domain (see
// Tests/NanoKernelTests/HostileServiceTests.swift). Not part of the default image.
import Interfaces
import LRPC

let service = Service(interface: "hostile")
ServiceMain.run(service)
