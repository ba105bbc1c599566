import Testing

@testable import Kreiswerk

@Suite struct SQLScriptTests {
    @Test func splitsOnSemicolonsOutsideQuotesCommentsAndDollarBodies() {
        let script = SQLScript(
            """
            -- a comment; not a statement
            CREATE TABLE a (x text DEFAULT 'it''s; fine');
            /* block; /* nested; */ still comment */
            CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;
            DO $body$ BEGIN RAISE NOTICE 'x;y'; END $body$;
            SELECT "odd;name", E'a\\';b' FROM a
            """
        )
        #expect(script.statements.count == 4)
        #expect(script.statements[0].line == 2)
        #expect(script.statements[1].text.hasSuffix("$$ SELECT 1; $$"))
        #expect(script.statements[2].text.hasPrefix("DO $body$"))
        #expect(script.statements[3].text == "SELECT \"odd;name\", E'a\\';b' FROM a")
        #expect(script.statements[3].line == 6)
    }

    @Test func onlyAStandaloneEStartsABackslashString() {
        // `LIKE'…\'` is an ordinary string: the backslash does not escape its quote.
        let script = SQLScript("SELECT 1 WHERE x LIKE'C:\\';\nSELECT 2")
        #expect(script.statements.map(\.line) == [1, 2])
    }

    @Test func ignoresTrailingCommentsAndEmptyStatements() {
        #expect(SQLScript("SELECT 1;;\n-- done\n").statements.map(\.text) == ["SELECT 1"])
    }
}
