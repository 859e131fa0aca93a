// NanoService: the one product a service package depends on. It brings the LRPC
// runtime, the interface macros, the built-in interfaces (name, clock), swift-log and the
// domain's log handler, and it carries the link settings every service needs: a domain
// is statically linked because its sandbox lets it open no shared library.
@_exported import Interfaces
@_exported import LRPC
@_exported import Logging
