// ImageError: why a boot image was refused, phrased for the person editing it.

/// A boot image that cannot be read, parsed or validated.
///
/// Renders as `images/bad.toml:12: service 'clock'.restart: expected one of ...`;
/// the field is left out for syntax errors, and the line when there is none
/// (an unreadable file).
public struct ImageError: Error, Equatable, CustomStringConvertible {
    /// The image file, as given to the loader.
    public var path: String
    /// 1-based line the problem is on; 0 when it concerns the whole file.
    public var line: Int
    /// The field at fault: "image.name", "service[2].imports", "service 'clock'.restart";
    /// empty for TOML syntax errors.
    public var field: String
    public var message: String

    public init(path: String, line: Int, field: String, message: String) {
        self.path = path
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String {
        let location = line > 0 ? "\(path):\(line)" : path
        return field.isEmpty ? "\(location): \(message)" : "\(location): \(field): \(message)"
    }
}

extension ImageError {
    /// A TOML syntax or structure error, which has no schema field yet.
    init(_ error: TOMLError) {
        self.init(path: error.file, line: error.line, field: "", message: error.message)
    }
}
