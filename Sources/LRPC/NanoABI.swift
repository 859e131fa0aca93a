// The runtime speaks the kernel's ABI: every layout, message and code a service sees
// comes from NanoABI, re-exported so service code needs only `import LRPC`.
@_exported import NanoABI
