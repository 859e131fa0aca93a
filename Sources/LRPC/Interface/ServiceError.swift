// ServiceError: a procedure's own error type. A handler throws it; it travels as a code
// and a bounded message; the caller's stub rebuilds it, so the caller catches the same
// type (`catch KVError.emptyKey`). Transport failures stay `CallError`s.
//
//     enum KVError: UInt32, ServiceError { case emptyKey, notFound }

public protocol ServiceError: Error, Sendable {
    /// Nonzero; 0 means "a failure with no declared type" (`CallError.procedureFailed`).
    /// Named apart from `code` so an error can keep a `code` of its own type (`FileError`).
    var wireCode: UInt32 { get }
    var message: String { get }
    /// The caller's side: nil for a code this version does not know.
    init?(code: UInt32, message: String)
}

extension ServiceError where Self: RawRepresentable, RawValue == UInt32 {
    // Raw values start at 0; codes start at 1, so 0 stays "untyped".
    public var wireCode: UInt32 { rawValue &+ 1 }
    public var code: UInt32 { wireCode }
    public var message: String { "\(self)" }
    public init?(code: UInt32, message: String) { self.init(rawValue: code &- 1) }
}

/// How a failure is laid out in the A-stack (or reply message) instead of results:
/// code (u32), message length (u32), message bytes. A message longer than the room left
/// is cut at a character boundary and ends in a marker saying how much was cut.
public enum FailureCoding {
    public static let header = 8

    public static func write(code: UInt32, message: String, into out: UnsafeMutableRawBufferPointer) -> Int {
        guard out.count >= header else { return 0 }
        let text = fitting(message, room: out.count - header)
        let bytes = Array(text.utf8)
        out.storeBytes(of: code.littleEndian, toByteOffset: 0, as: UInt32.self)
        out.storeBytes(of: UInt32(bytes.count).littleEndian, toByteOffset: 4, as: UInt32.self)
        UnsafeMutableRawBufferPointer(rebasing: out[header..<(header + bytes.count)]).copyBytes(from: bytes)
        return header + bytes.count
    }

    public static func read(_ bytes: UnsafeRawBufferPointer) -> (code: UInt32, message: String) {
        guard bytes.count >= header else { return (0, "(no failure record)") }
        let code = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        let length = min(Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self))),
                         bytes.count - header)
        return (code, String(decoding: bytes[header..<(header + length)], as: UTF8.self))
    }

    /// `message`, or its longest prefix (whole characters) followed by " …[N bytes cut]".
    static func fitting(_ message: String, room: Int) -> String {
        let total = message.utf8.count
        if total <= room { return message }
        var kept = Substring(message)
        while kept.utf8.count > room { kept = kept.dropLast() }
        while true {
            let marker = " …[\(total - kept.utf8.count) bytes cut]"
            if kept.utf8.count + marker.utf8.count <= room { return String(kept) + marker }
            if kept.isEmpty { return "…" }
            kept = kept.dropLast()
        }
    }
}
