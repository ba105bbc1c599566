import Foundation
import Testing

/// A table wider than a phone scrolls within its frame (`.table-wrap`); a keyboard must reach that frame to scroll it
/// (WCAG 2.1.1, axe's scrollable-region-focusable, found by the browser sweep of issue 17 on 17 pages at 390 px).
@Suite struct ScrollableTablesTests {
    static var templates: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/Kreiswerk/Web/Templates")
    }

    @Test func everyScrollingTableFrameCanBeFocused() throws {
        var frames = 0
        var unreachable: [String] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: Self.templates.path) where file.hasSuffix(".mustache") {
            let text = try String(contentsOf: Self.templates.appendingPathComponent(file), encoding: .utf8)
            for tag in text.matches(of: /<div class="table-wrap"[^>]*>/) {
                frames += 1
                if !tag.0.contains(#"tabindex="0""#) { unreachable.append("\(file): \(tag.0)") }
            }
        }
        #expect(frames > 10)
        #expect(unreachable == [], "a scrolling table frame without tabindex=\"0\"")
    }
}
