// The file service's [service.file] table: what it maps to, and every range check with
// file, line and field.
import BootImage
import XCTest

final class FileStoreImageTests: XCTestCase {
    static func image(_ file: String) -> String {
        """
        [image]
        name = "files"

        [[service]]
        name = "file"
        executable = "nk-file"
        provides = ["file"]

        \(file)
        """
    }

    func testEveryFieldMapsToTheModel() throws {
        let image = try BootImage.parse(text: Self.image("""
            [service.file]
            root = "/srv/files"
            upload_idle_s = 30
            [[service.file.view]]
            client = "operator"
            access = "read-write"
            [[service.file.view]]
            client = "notes"
            path = "apps/notes"
            max_mib = 2
            max_files = 50
            """), path: "files.toml")
        var expected = FileStoreConfig(root: "/srv/files", views: [
            FileViewGrant(client: "operator", path: "", writable: true),
            FileViewGrant(client: "notes", path: "apps/notes", writable: false, maxBytes: 2 << 20, maxFiles: 50),
        ])
        expected.uploadIdleSeconds = 30
        XCTAssertEqual(image.services[0].fileStore, expected)
        let defaults = try BootImage.parse(text: Self.image("[service.file]"), path: "files.toml")
        XCTAssertEqual(defaults.services[0].fileStore?.uploadIdleSeconds, FileStoreConfig.defaultUploadIdleSeconds)
    }

    func testBadFieldsAreNamedWithTheirLine() {
        func refused(_ file: String) -> ImageError? {
            do throws(ImageError) {
                _ = try BootImage.parse(text: Self.image(file), path: "bad.toml")
                XCTFail("expected the image to be refused")
                return nil
            } catch {
                return error
            }
        }
        let relativeRoot = refused("[service.file]\nroot = \"files\"")
        XCTAssertEqual(relativeRoot?.line, 10)
        XCTAssertEqual(relativeRoot?.field, "service 'file'.file.root")
        let unknown = refused("[service.file]\n[[service.file.view]]\nclient = \"operator\"\nacess = \"read-only\"")
        XCTAssertEqual(unknown?.line, 12)
        XCTAssertTrue(unknown?.message.contains("did you mean 'access'") ?? false, unknown?.message ?? "")
        let escape = refused("[[service.file.view]]\nclient = \"operator\"\npath = \"apps/../..\"")
        XCTAssertEqual(escape?.line, 11)
        XCTAssertEqual(escape?.field, "service 'file'.file.view[1].path")
        let absolute = refused("[[service.file.view]]\nclient = \"operator\"\npath = \"/etc\"")
        XCTAssertEqual(absolute?.field, "service 'file'.file.view[1].path")
        let access = refused("[[service.file.view]]\nclient = \"operator\"\naccess = \"rw\"")
        XCTAssertEqual(access?.field, "service 'file'.file.view[1].access")
        let client = refused("[[service.file.view]]\nclient = \"Bad Name\"")
        XCTAssertEqual(client?.field, "service 'file'.file.view[1].client")
        let quota = refused("[[service.file.view]]\nclient = \"*\"\nmax_mib = 0")
        XCTAssertEqual(quota?.field, "service 'file'.file.view[1].max_mib")
        let huge = refused("[[service.file.view]]\nclient = \"*\"\nmax_files = 9999999999")
        XCTAssertEqual(huge?.field, "service 'file'.file.view[1].max_files")
        XCTAssertEqual(huge?.line, 11)
        let idle = refused("[service.file]\nupload_idle_s = 0")
        XCTAssertEqual(idle?.field, "service 'file'.file.upload_idle_s")
        XCTAssertEqual(idle?.line, 10)
    }
}
