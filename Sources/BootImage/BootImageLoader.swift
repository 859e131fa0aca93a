// BootImageLoader: reading a boot image from its TOML file into the model.
//
// Parsing (TOMLDocument) and schema decoding (BootImageDecoder) are separate so
// every error, syntax or schema, comes back as one ImageError with file and line.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension BootImage {
    /// Reads, parses and validates the image at `path`.
    public static func load(path: String) throws(ImageError) -> BootImage {
        try parse(text: try readImageFile(path), path: path)
    }

    /// Parses and validates image text; `path` is only used in messages and `BootImage.path`.
    public static func parse(text: String, path: String) throws(ImageError) -> BootImage {
        let document: TOMLDocument
        do throws(TOMLError) {
            document = try TOMLDocument(parsing: text, file: path)
        } catch {
            throw ImageError(error)
        }
        return try BootImageDecoder(path: path, root: document.root).decode()
    }

    /// The whole file as UTF-8 text; TOML files must be valid UTF-8.
    private static func readImageFile(_ path: String) throws(ImageError) -> String {
        func failure(_ message: String) -> ImageError {
            ImageError(path: path, line: 0, field: "", message: message)
        }
        guard let file = fopen(path, "rb") else {
            throw failure("cannot open the image: \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            bytes.append(contentsOf: buffer[..<count])
            if count < buffer.count { break }
        }
        if ferror(file) != 0 {
            throw failure("cannot read the image: \(String(cString: strerror(errno)))")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw failure("the image is not valid UTF-8 text")
        }
        return text
    }
}
