import Foundation
import Testing

/// One page = one service call = one transaction: pages, API handlers and route files map what a capability's service
/// returns; they hold no connection, no SQL and no transaction of their own (DESIGN.md, STYLE.md).
@Suite struct LayeringTests {
    static let sources = TestDatabase.checkout.appendingPathComponent("Sources/Kreiswerk")

    /// What a handler file may not contain, with why.
    static let forbidden: [(pattern: String, what: String)] = [
        (#"import PostgresNIO"#, "imports the database driver"),
        (#"PostgresConnection"#, "holds a connection"),
        (#"\.query\("#, "runs a query"),
        (#"\bwith(Transaction|Tenant)\b"#, "opens a transaction"),
        (#"\b(SELECT\s.*\sFROM|INSERT INTO|DELETE FROM|UPDATE\s+[a-z_]+\s+SET)\b"#, "writes SQL"),
    ]

    static func handlerFiles() throws -> [URL] {
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!.compactMap { $0 as? URL }
        return files.filter { url in ["Pages.swift", "API.swift", "Routes.swift"].contains { url.lastPathComponent.hasSuffix($0) } }
            .sorted { $0.path < $1.path }
    }

    @Test func handlersHoldNoConnectionSQLOrTransaction() throws {
        let files = try Self.handlerFiles()
        #expect(files.count >= 20, "the handler files are found: \(files.map(\.lastPathComponent))")
        var findings: [String] = []
        for file in files {
            let lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n")
            for (number, line) in lines.enumerated() {
                for rule in Self.forbidden where line.range(of: rule.pattern, options: .regularExpression) != nil {
                    findings.append("\(file.lastPathComponent):\(number + 1) \(rule.what): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        #expect(findings.isEmpty, "move these into the capability's service (one call, one transaction):\n\(findings.joined(separator: "\n"))")
    }

    @Test func theRuleFindsWhatItLooksFor() {
        let samples = [
            "import PostgresNIO", "func x(on connection: PostgresConnection)", "try await connection.query(\"x\")",
            "try await database.withTransaction { }", "try await database.withTenant(id) { }", "\"SELECT id FROM cases WHERE x\"",
            "\"UPDATE users SET roles = x\"", "INSERT INTO jobs", "DELETE FROM x",
        ]
        for sample in samples {
            #expect(Self.forbidden.contains { sample.range(of: $0.pattern, options: .regularExpression) != nil }, "\(sample)")
        }
        #expect(!Self.forbidden.contains { "let selected = choices.first".range(of: $0.pattern, options: .regularExpression) != nil })
    }
}
