import Foundation
import Testing

/// A statement that returns rows is read to its end. PostgresNIO hands back a row sequence as soon as the rows are
/// described; an error raised while they are produced (a failing definer function, a lock timeout, a deadlock) goes into
/// that sequence, so a caller that drops it never hears of it. The transaction is then aborted, and when nothing else
/// runs before COMMIT, PostgreSQL answers COMMIT with ROLLBACK: the work is lost without an error (issue 16).
@Suite struct StatementDrainTests {
    static let sources = TestDatabase.checkout.appendingPathComponent("Sources")

    /// Statements without rows, whose errors arrive with the command's completion.
    static let rowless = ["INSERT", "UPDATE", "DELETE", "SET", "SAVEPOINT", "RELEASE", "ROLLBACK", "CREATE", "LISTEN", "UNLISTEN"]

    /// The statements in `source` whose result is dropped although they may return rows: (line, statement).
    static func undrained(in source: String) -> [(Int, String)] {
        let characters = Array(source)
        var findings: [(Int, String)] = []
        for match in source.matches(of: /(?m)^[ \t]*(?:_ = )?try await [\w.]+\.query\(/) {
            var index = source.distance(from: source.startIndex, to: match.range.upperBound)
            var depth = 1
            while depth > 0 && index < characters.count {
                if characters[index] == "(" { depth += 1 } else if characters[index] == ")" { depth -= 1 }
                index += 1
            }
            let statement = String(characters[source.distance(from: source.startIndex, to: match.range.lowerBound)..<index])
            let next = characters[index...].first { !$0.isWhitespace }
            if next == "." { continue }  // .collect(), a decode, an iteration: read
            let sql = statement.firstMatch(of: /"(?:"")?\s*([A-Za-z]+)/).map { String($0.output.1).uppercased() }
            if let sql, rowless.contains(sql), !statement.uppercased().contains("RETURNING") { continue }
            let line = source[..<match.range.lowerBound].filter { $0 == "\n" }.count + 1
            findings.append((line, statement.trimmingCharacters(in: .whitespacesAndNewlines).prefix(120).replacingOccurrences(of: "\n", with: " ")))
        }
        return findings
    }

    @Test func everyStatementThatMayReturnRowsIsRead() throws {
        let files = FileManager.default.enumerator(at: Self.sources, includingPropertiesForKeys: nil)!.compactMap { $0 as? URL }
            .filter { $0.pathExtension == "swift" }
        #expect(files.count > 100, "the sources are found")
        var findings: [String] = []
        for file in files {
            for (line, statement) in Self.undrained(in: try String(contentsOf: file, encoding: .utf8)) {
                findings.append("\(file.lastPathComponent):\(line): \(statement)")
            }
        }
        #expect(findings.isEmpty, "read these statements' rows (`.collect()`), or their errors are lost:\n\(findings.joined(separator: "\n"))")
    }

    @Test func theRuleFindsWhatItLooksFor() {
        let dropped = """
                try await connection.query("SELECT audit_append(\\(events))", logger: logger)
                _ = try await connection.query(
                    \"\"\"
                    INSERT INTO notes (text) VALUES ('x') RETURNING id
                    \"\"\",
                    logger: logger
                )
                try await connection.query(statement, logger: logger)
            """
        #expect(Self.undrained(in: dropped).map(\.0) == [1, 2, 8])
        let read = """
                try await connection.query("UPDATE cases SET phase = 'x'", logger: logger)
                _ = try await connection.query("SELECT pg_advisory_xact_lock(1)", logger: logger).collect()
                let rows = try await connection.query("SELECT 1", logger: logger)
                try await connection.query(
                    \"\"\"
                    INSERT INTO notes (text) VALUES ('y')
                    \"\"\",
                    logger: logger
                )
            """
        #expect(Self.undrained(in: read).isEmpty)
    }
}
