// TOMLDocumentTests: the TOML subset boot images are written in, piece by piece.

@testable import BootImage
import XCTest

final class TOMLDocumentTests: XCTestCase {
    // MARK: Keys, comments and tables

    func testCommentsAndKeyForms() throws {
        let root = try parse("""
            # a whole-line comment
            bare = 1 # a trailing comment
            "quoted key" = 2
            'literal key' = 3
            dash-and_under9 = 4
            a.b.c = 5
            a . "d" = 6
            """)
        XCTAssertEqual(root.keys, ["bare", "quoted key", "literal key", "dash-and_under9", "a"])
        XCTAssertEqual(root["bare"]?.integer, 1)
        XCTAssertEqual(root["quoted key"]?.integer, 2)
        XCTAssertEqual(root["literal key"]?.integer, 3)
        XCTAssertEqual(root["dash-and_under9"]?.integer, 4)
        XCTAssertEqual(root["a"]?.table?["b"]?.table?["c"]?.integer, 5)
        XCTAssertEqual(root["a"]?.table?["d"]?.integer, 6)
    }

    func testTableHeadersAndDottedHeaders() throws {
        let root = try parse("""
            [server]
            port = 1
            [server.limits]
            files = 2
            [ "odd name" . inner ]
            x = 3
            [late.child]
            y = 4
            [late]
            z = 5
            """)
        XCTAssertEqual(root["server"]?.table?["port"]?.integer, 1)
        XCTAssertEqual(root["server"]?.table?["limits"]?.table?["files"]?.integer, 2)
        XCTAssertEqual(root["odd name"]?.table?["inner"]?.table?["x"]?.integer, 3)
        // [late] may come after [late.child]: the child only implied it.
        XCTAssertEqual(root["late"]?.table?["child"]?.table?["y"]?.integer, 4)
        XCTAssertEqual(root["late"]?.table?["z"]?.integer, 5)
        XCTAssertEqual(root["late"]?.line, 9, "a table's line is its own header once it has one")
    }

    func testSubtableHeaderBelongsToLastArrayElement() throws {
        let root = try parse("""
            [[service]]
            name = "a"
            [service.sandbox]
            memory = 1

            [[service]]
            name = "b"
            [service.sandbox]
            memory = 2
            """)
        let services = try XCTUnwrap(root["service"]?.array)
        XCTAssertEqual(services.count, 2)
        XCTAssertEqual(services[0].table?["name"]?.string, "a")
        XCTAssertEqual(services[0].table?["sandbox"]?.table?["memory"]?.integer, 1)
        XCTAssertEqual(services[1].table?["name"]?.string, "b")
        XCTAssertEqual(services[1].table?["sandbox"]?.table?["memory"]?.integer, 2)
        XCTAssertEqual(services.map(\.line), [1, 6])
    }

    // MARK: Values

    func testBasicAndLiteralStrings() throws {
        let root = try parse(#"""
            escapes = "quote \" backslash \\ newline \n tab \t e-acute \u00E9 smile \U0001F600"
            literal = 'C:\no\escapes "here"'
            empty = ""
            raw = "naïve ☃"
            """#)
        XCTAssertEqual(root["escapes"]?.string, "quote \" backslash \\ newline \n tab \t e-acute é smile 😀")
        XCTAssertEqual(root["literal"]?.string, #"C:\no\escapes "here""#)
        XCTAssertEqual(root["empty"]?.string, "")
        XCTAssertEqual(root["raw"]?.string, "naïve ☃")
    }

    func testIntegers() throws {
        let root = try parse("""
            thousand = 1_000
            negative = -17
            positive = +5
            zero = 0
            largest = 9_223_372_036_854_775_807
            smallest = -9223372036854775808
            """)
        XCTAssertEqual(root["thousand"]?.integer, 1000)
        XCTAssertEqual(root["negative"]?.integer, -17)
        XCTAssertEqual(root["positive"]?.integer, 5)
        XCTAssertEqual(root["zero"]?.integer, 0)
        XCTAssertEqual(root["largest"]?.integer, Int.max)
        XCTAssertEqual(root["smallest"]?.integer, Int.min)
    }

    func testMalformedIntegers() {
        XCTAssertEqual(parseError("x = 007")?.message, "invalid integer '007': leading zeros are not allowed")
        XCTAssertEqual(parseError("x = 1__0")?.message, "invalid integer '1__0': '_' must sit between two digits")
        XCTAssertEqual(parseError("x = 10_")?.message, "invalid integer '10_': '_' must sit between two digits")
        XCTAssertEqual(parseError("x = 9223372036854775808")?.message,
                       "integer '9223372036854775808' does not fit in 64 bits")
        XCTAssertEqual(parseError("x = 12abc")?.message, "invalid value '12abc'")
    }

    func testBooleans() throws {
        let root = try parse("yes = true\nno = false")
        XCTAssertEqual(root["yes"]?.boolean, true)
        XCTAssertEqual(root["no"]?.boolean, false)
        XCTAssertEqual(parseError("x = True")?.message, "expected a value, found 'True' (strings need quotes)")
    }

    func testArrays() throws {
        let root = try parse("""
            empty = []
            inline = [1, 2, 3]
            multiline = [
                "a",   # first
                # a comment on its own line
                "b",
            ]
            nested = [[1, 2], ["x"], []]
            mixed = [1, "one", true]
            """)
        XCTAssertEqual(root["empty"]?.array?.count, 0)
        XCTAssertEqual(root["inline"]?.array?.compactMap(\.integer), [1, 2, 3])
        XCTAssertEqual(root["multiline"]?.array?.compactMap(\.string), ["a", "b"])
        XCTAssertEqual(root["multiline"]?.array?.map(\.line), [4, 6], "each element keeps its own line")
        XCTAssertEqual(root["nested"]?.array?.map { $0.array?.count }, [2, 1, 0])
        XCTAssertEqual(root["mixed"]?.array?.count, 3)
    }

    func testMalformedArrays() {
        XCTAssertEqual(parseError("x = [1 2]")?.message, "expected ',' or ']' after an array element, found '2'")
        XCTAssertEqual(parseError("x = [1,,2]")?.message, "expected a value, found ','")
        let unterminated = parseError("x = [\n  1,\n  2\n")
        XCTAssertEqual(unterminated?.line, 1)
        XCTAssertEqual(unterminated?.message, "unterminated array opened on line 1 (missing ']')")
    }

    func testInlineTables() throws {
        let root = try parse("""
            point = { x = 1, "y" = 2, label.text = "p", tags = ["a", "b"] }
            empty = {}
            """)
        let point = try XCTUnwrap(root["point"]?.table)
        XCTAssertEqual(point.keys, ["x", "y", "label", "tags"])
        XCTAssertEqual(point["x"]?.integer, 1)
        XCTAssertEqual(point["y"]?.integer, 2)
        XCTAssertEqual(point["label"]?.table?["text"]?.string, "p")
        XCTAssertEqual(point["tags"]?.array?.compactMap(\.string), ["a", "b"])
        XCTAssertEqual(root["empty"]?.table?.isEmpty, true)
    }

    func testMalformedInlineTables() {
        XCTAssertEqual(parseError("t = { a = 1, }")?.message, "a trailing comma is not allowed in an inline table")
        XCTAssertEqual(parseError("t = { a = 1\n}")?.message,
                       "unterminated inline table opened on line 1 (missing '}'; inline tables must close on the line they open)")
        XCTAssertEqual(parseError("t = { a = 1 b = 2 }")?.message, "expected ',' or '}' in an inline table, found 'b'")
        XCTAssertEqual(parseError("t = { a = 1, a = 2 }")?.message, "duplicate key 'a' (first defined on line 1)")
    }

    // MARK: What images do not use

    func testUnsupportedPiecesAreRefusedByName() {
        let cases = [
            "x = 1.5": "unsupported TOML: floats (1.5)",
            "x = 1e3": "unsupported TOML: floats (1e3)",
            "x = -inf": "unsupported TOML: floats (-inf)",
            "x = nan": "unsupported TOML: floats (nan)",
            "x = 1979-05-27": "unsupported TOML: dates and times (1979-05-27)",
            "x = 07:32:00": "unsupported TOML: dates and times (07:32:00)",
            "x = 0x1F": "unsupported TOML: hexadecimal, octal and binary integers (0x1F)",
            "x = \"\"\"text\"\"\"": "unsupported TOML: multi-line strings",
            "x = '''text'''": "unsupported TOML: multi-line strings",
        ]
        for (text, message) in cases {
            XCTAssertEqual(parseError(text)?.message, message, text)
        }
    }

    // MARK: Defined once

    func testDuplicateKeysAndRedefinedTables() {
        let cases: [(text: String, line: Int, message: String)] = [
            ("a = 1\na = 2", 2, "duplicate key 'a' (first defined on line 1)"),
            ("[t]\nx = 1\n[t]", 3, "table [t] is already defined on line 1"),
            ("a.b = 1\n[a]", 2, "table [a] is already defined by dotted keys on line 1"),
            ("[a]\nb = 1\n[a.b]", 3, "'a.b' is already an integer (line 2), not a table"),
            ("[x]\n[[x]]", 2, "[[x]] cannot add to [x], a table defined on line 1"),
            ("[[x]]\n[x]", 2, "[x] is already an array of tables ([[x]] on line 1)"),
            ("x = [1]\n[[x]]", 2, "'x' is already an array (line 1), not a table"),
            ("t = { a = 1 }\n[t.b]", 2, "'t' is an inline table (line 1) and cannot be extended"),
            ("t = { a = 1 }\nt.b = 2", 2, "'t' is an inline table (line 1) and cannot be extended"),
            ("[a.b]\nz = 1\n[a]\nb.c = 2", 4, "a dotted key cannot add to table [a.b], defined on line 1"),
            ("[a]\nb.c = 1\nb.c = 2", 3, "duplicate key 'a.b.c' (first defined on line 2)"),
        ]
        for (text, line, message) in cases {
            let error = parseError(text)
            XCTAssertEqual(error?.line, line, text)
            XCTAssertEqual(error?.message, message, text)
        }
        // The same dotted key under two different tables names two different things.
        XCTAssertNoThrow(try parse("[[s]]\nx.y = 1\n[[s]]\nx.y = 2\n[t]\nx.y = 3"))
    }

    // MARK: Lines and errors

    func testValuesRememberTheirLines() throws {
        let root = try parse("""
            # line 1

            [first]
            a = 1
            b = [
              2,
              3,
            ]
            c = "after the array"
            """)
        let first = try XCTUnwrap(root["first"])
        XCTAssertEqual(first.line, 3)
        XCTAssertEqual(first.table?["a"]?.line, 4)
        XCTAssertEqual(first.table?["b"]?.line, 5)
        XCTAssertEqual(first.table?["b"]?.array?.map(\.line), [6, 7])
        XCTAssertEqual(first.table?["c"]?.line, 9)
    }

    func testWindowsLineEndings() throws {
        let root = try parse("a = 1\r\n[t]\r\nb = [\r\n  2,\r\n]\r\n")
        XCTAssertEqual(root["t"]?.line, 2)
        XCTAssertEqual(root["t"]?.table?["b"]?.array?.first?.line, 4)
    }

    func testSyntaxErrorsCarryFileAndLine() {
        let error = parseError("a = 1\nb = \"never closed\nc = 3")
        XCTAssertEqual(error, TOMLError(file: "test.toml", line: 2, message: "unterminated string (missing closing \")"))
        XCTAssertEqual(error?.description, "test.toml:2: unterminated string (missing closing \")")
    }

    func testOtherSyntaxErrors() {
        let cases: [(text: String, line: Int, message: String)] = [
            ("\n\nkey \"value\"", 3, "expected '=' after key 'key', found '\"'"),
            ("a = 1 2", 1, "expected end of line, found '2'"),
            ("restart = sometimes", 1, "expected a value, found 'sometimes' (strings need quotes)"),
            ("a =", 1, "expected a value, found end of file"),
            ("= 1", 1, "expected a key, found '='"),
            ("s = \"bad \\q escape\"", 1, "invalid escape '\\q' in string"),
            ("s = \"\\u12\"", 1, "\\u needs exactly 4 hex digits"),
            ("s = \"\\uD800\"", 1, "\\uD800 is not a Unicode scalar value"),
            ("[table", 1, "expected ']' to close the table header, found end of file"),
            ("[[array]", 1, "expected ']]' to close the table header, found end of file"),
            ("[t] x = 1", 1, "expected end of line, found 'x'"),
            ("s = \"tab\tok\u{1}\"", 1, "control character U+0001 must be escaped"),
        ]
        for (text, line, message) in cases {
            let error = parseError(text)
            XCTAssertEqual(error?.line, line, text)
            XCTAssertEqual(error?.message, message, text)
        }
    }

    // MARK: Helpers

    private func parse(_ text: String) throws -> TOMLTable {
        try TOMLDocument(parsing: text, file: "test.toml").root
    }

    private func parseError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> TOMLError? {
        do throws(TOMLError) {
            _ = try TOMLDocument(parsing: text, file: "test.toml")
            XCTFail("expected a TOML error for: \(text)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }
}

private extension TOMLValue {
    var string: String? { if case .string(let value) = kind { value } else { nil } }
    var integer: Int? { if case .integer(let value) = kind { value } else { nil } }
    var boolean: Bool? { if case .boolean(let value) = kind { value } else { nil } }
    var array: [TOMLValue]? { if case .array(let value) = kind { value } else { nil } }
    var table: TOMLTable? { if case .table(let value) = kind { value } else { nil } }
}
