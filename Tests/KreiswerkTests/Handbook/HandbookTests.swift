import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Kreiswerk

/// The district's quality handbook (issue 21, seed 000): a coordinator drafts a section, a second coordinator reviews and
/// releases it (never its author: the page and the database refuse), each release a new version with the older ones kept;
/// everyone of the district reads the released version, no draft; another district sees nothing; a stale edit is a 409.
@Suite struct HandbookTests {
    static func signedIn(_ email: String, _ client: some TestClientProtocol) async throws -> WebBrowser {
        var browser = WebBrowser()
        let response = try await browser.signIn(email, client)
        #expect(response.status == .seeOther, "\(email) signs in")
        return browser
    }

    /// A second coordinator of the Ennepe-Ruhr-Kreis, to review the first one's drafts.
    static func secondCoordinator(_ db: TestDatabase) async throws -> (id: UUID, email: String) {
        let operators = OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4))
        let email = "zweite@en-kreis.test"
        let user = try await operators.create(
            tenant: "en-kreis",
            email: email,
            displayName: "Zweite Koordinatorin",
            roles: [.districtCoordinator],
            password: TestApp.password
        )
        return (user.id, email)
    }

    /// The coordinator drafts a section through the page; its id.
    static func draft(_ coordinator: inout WebBrowser, _ client: some TestClientProtocol) async throws -> String {
        _ = try await coordinator.get("/handbuch", client)
        let created = try await coordinator.post(
            "/handbuch",
            [("title", "Mindestdokumentationsstandard"), ("body", "Jede Phase wird dokumentiert.\n\nDas Erstgespräch binnen zwei Wochen.")],
            client
        )
        #expect(created.status == .seeOther, "\(created.text)")
        let location = try #require(created.headers[.location])
        return String(location.dropFirst("/handbuch/".count).prefix(36))
    }

    static func version(_ page: TestResponse) throws -> String {
        let range = try #require(page.text.range(of: #"name="version" value="([0-9]+)""#, options: .regularExpression), "a version on \(page.text)")
        return String(page.text[range].dropFirst(#"name="version" value=""#.count).dropLast())
    }

    @Test func aSecondCoordinatorReleasesAndTheTownsReadTheReleasedVersionWithItsHistory() async throws {
        try await TestApp.with { db, people, client in
            let second = try await Self.secondCoordinator(db)
            var author = try await Self.signedIn(people["coordinator"].email, client)
            let id = try await Self.draft(&author, client)

            // The author may not release their own draft: no button, and the page refuses the post.
            var page = try await author.get("/handbuch/\(id)", client)
            #expect(page.text.contains("Entwurf zur Prüfung") && !page.text.contains(#"id="release""#))
            let own = try await author.post("/handbuch/\(id)/freigabe", [("version", try Self.version(page))], client)
            #expect(own.status == .forbidden, "\(own.text)")
            #expect(own.text.contains("zweite Person"))

            // A town's case manager sees neither the draft nor the section before its release.
            var witten = try await Self.signedIn(people["wittenCM"].email, client)
            #expect(try await witten.get("/handbuch/\(id)", client).status == .notFound)
            #expect(!(try await witten.get("/handbuch", client).text.contains("Mindestdokumentationsstandard")))

            // The second coordinator releases version 1.
            var reviewer = try await Self.signedIn(second.email, client)
            page = try await reviewer.get("/handbuch/\(id)", client)
            #expect(page.text.contains(#"id="release""#))
            let released = try await reviewer.post("/handbuch/\(id)/freigabe", [("version", try Self.version(page))], client)
            #expect(released.status == .seeOther, "\(released.text)")
            #expect(try await reviewer.get(try #require(released.headers[.location]), client).text.contains("Freigegeben: Fassung 1"))

            // The author drafts version 2; the town still reads version 1 and never the draft.
            page = try await author.get("/handbuch/\(id)", client)
            let changed = try await author.post(
                "/handbuch/\(id)",
                [("version", try Self.version(page)), ("title", "Mindestdokumentationsstandard"), ("body", "Das Erstgespräch binnen einer Woche.")],
                client
            )
            #expect(changed.status == .seeOther, "\(changed.text)")
            var read = try await witten.get("/handbuch/\(id)", client)
            #expect(read.status == .ok)
            #expect(read.text.contains("Gültige Fassung 1") && read.text.contains("binnen zwei Wochen"))
            #expect(!read.text.contains("binnen einer Woche") && !read.text.contains("Entwurf"))
            #expect(try await witten.get("/handbuch", client).text.contains("Mindestdokumentationsstandard"))

            // Released as version 2 by the reviewer: the town reads version 2, version 1 stays readable.
            page = try await reviewer.get("/handbuch/\(id)", client)
            #expect(try await reviewer.post("/handbuch/\(id)/freigabe", [("version", try Self.version(page))], client).status == .seeOther)
            read = try await witten.get("/handbuch/\(id)", client)
            #expect(read.text.contains("Gültige Fassung 2") && read.text.contains("binnen einer Woche"))
            #expect(read.text.contains("Fassung 1 vom") && read.text.contains("binnen zwei Wochen"))
            #expect(read.text.contains("freigegeben von Zweite Koordinatorin"))

            // Another district's coordinator: nothing.
            _ = try await LadderTests.otherDistrictsCoordinator(db)
            var other = try await Self.signedIn("ks@mettmann.test", client)
            #expect(try await other.get("/handbuch/\(id)", client).status == .notFound)
            #expect(!(try await other.get("/handbuch", client).text.contains("Mindestdokumentationsstandard")))
            #expect(try await other.post("/handbuch/\(id)", [("version", "1"), ("title", "X"), ("body", "Y")], client).status == .notFound)

            // Audited: drafted, released.
            let actions = try await db.owner.withTransaction { connection in
                try await connection.query(
                    "SELECT action FROM audit_log WHERE object_type = 'handbook_section' AND lower(object_id) = \(id) ORDER BY action",
                    logger: TestDatabase.logger
                ).collect().map { try $0.decode(String.self) }
            }
            #expect(actions.filter { $0 == "handbook.released" }.count == 2 && actions.contains("handbook.drafted"))
        }
    }

    @Test func theDatabaseRefusesAReleaseByTheAuthor() async throws {
        try await TestApp.with { db, people, client in
            var author = try await Self.signedIn(people["coordinator"].email, client)
            let id = try #require(UUID(uuidString: try await Self.draft(&author, client)))
            let district = try await CampaignTests.tenantID(db, "en-kreis")
            let authorID = people["coordinator"].id
            await #expect(throws: PSQLError.self) {
                try await db.app.withTenant(UUID(uuidString: district)!, user: authorID) { connection in
                    try await connection.query(
                        """
                        INSERT INTO handbook_versions (tenant_id, section_id, number, title, body, written_by, released_by)
                        VALUES (\(UUID(uuidString: district)!), \(id), 1, 'Titel', 'Text', \(authorID), \(authorID))
                        """,
                        logger: TestDatabase.logger
                    )
                }
            }
            // A released version is never changed.
            await #expect(throws: PSQLError.self) {
                try await db.app.withTenant(UUID(uuidString: district)!, user: authorID) { connection in
                    try await connection.query("UPDATE handbook_versions SET body = 'anders'", logger: TestDatabase.logger)
                }
            }
        }
    }

    @Test func aStaleEditIsA409AndChangesNothing() async throws {
        try await TestApp.with { db, people, client in
            let second = try await Self.secondCoordinator(db)
            var author = try await Self.signedIn(people["coordinator"].email, client)
            let id = try await Self.draft(&author, client)
            let stale = try Self.version(try await author.get("/handbuch/\(id)", client))
            var colleague = try await Self.signedIn(second.email, client)
            let page = try await colleague.get("/handbuch/\(id)", client)
            let first = try await colleague.post(
                "/handbuch/\(id)",
                [("version", try Self.version(page)), ("title", "Mindestdokumentationsstandard"), ("body", "Fassung der Kollegin.")],
                client
            )
            #expect(first.status == .seeOther, "\(first.text)")
            let late = try await author.post(
                "/handbuch/\(id)",
                [("version", stale), ("title", "Mindestdokumentationsstandard"), ("body", "Meine alte Fassung.")],
                client
            )
            #expect(late.status == .conflict, "\(late.text)")
            #expect(late.text.contains("geändert, seit Sie ihn geöffnet haben"))
            // The colleague's text stands, and the author's is kept in the form to be entered again.
            #expect(late.text.contains("Fassung der Kollegin.") && late.text.contains("Meine alte Fassung."))
            // Bad input is a 422 with what to fix; a missing version a 409, never a 500.
            let empty = try await author.post("/handbuch/\(id)", [("version", try Self.version(late)), ("title", ""), ("body", "")], client)
            #expect(empty.status == .unprocessableContent && empty.text.contains("Titel von 1 bis 200 Zeichen"))
            #expect(try await author.post("/handbuch/\(id)/freigabe", [], client).status == .conflict)
            #expect(try await author.get("/handbuch/\(UUID())", client).status == .notFound)
        }
    }
}
