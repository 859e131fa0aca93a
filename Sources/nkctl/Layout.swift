// nkctl layout: the byte layouts of every piece of shared memory, printed from the very
// enums the runtime's accessors use (so the picture cannot drift from the code).
import ArgumentParser
import Foundation
import LRPC

struct Layout: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the A-stack slot, trap page, trap cell, call report and call record layouts, and the field kinds of A-stack values.",
        discussion: "`nkctl layout --markdown > docs/layout.md` regenerates the book's copy (a test checks it).")
    @Flag(help: "Print docs/layout.md.") var markdown = false
    @Flag(help: "Machine-readable output.") var json = false

    func run() throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(SharedLayouts.all), as: UTF8.self))
        } else if markdown {
            print(SharedLayouts.markdown(), terminator: "")
        } else {
            print(SharedLayouts.all.map(\.diagram).joined(separator: "\n\n"))
            print("\nA-stack value fields (procedure layouts: `nkctl call` usage lines, docs/layout.md)")
            print(SharedLayouts.fieldKinds)
        }
    }
}
