import Foundation
import Testing

@testable import SealpostAPI

/// The console built into the binary is exactly console/ (scripts/embed-console was run).
@Suite struct ConsoleAssetsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test(arguments: [
        ("index.html", ConsoleAssets.indexHTML), ("console.js", ConsoleAssets.script), ("console.css", ConsoleAssets.styleSheet),
    ])
    func embeddedAssetsMatchTheirSources(_ name: String, _ embedded: String) throws {
        let source = try String(contentsOf: Self.root.appendingPathComponent("console").appendingPathComponent(name), encoding: .utf8)
        #expect(embedded == source.trimmingCharacters(in: .newlines), "run scripts/embed-console after editing console/\(name)")
    }
}
