// TOMLError: why a document could not be parsed, and where.

/// A TOML syntax or structure error at one line of one file.
struct TOMLError: Error, Equatable, CustomStringConvertible {
    var file: String
    var line: Int
    var message: String

    var description: String { "\(file):\(line): \(message)" }
}
