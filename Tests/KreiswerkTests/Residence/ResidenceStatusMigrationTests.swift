import Foundation
import PostgresNIO
import Testing

@testable import Kreiswerk

/// Issue 21: the free-text residence statuses of a database from before migration 0031 become structured where they can,
/// and every text survives as it was.
@Suite struct ResidenceStatusMigrationTests {
    let logger = TestDatabase.logger

    /// The free text, and the title and paragraph it must map to.
    static let texts: [(String, String, String?)] = [
        ("Duldung", "toleration", nil),
        ("Ausbildungsduldung § 60c, Antrag § 25b gestellt", "toleration", nil),
        ("Aufenthaltsgestattung", "permission_to_reside", nil),
        ("NIEDERLASSUNGSERLAUBNIS", "settlement_permit", nil),
        ("Chancen-Aufenthaltsrecht nach §104c", "opportunity_residence", nil),
        ("AE nach § 25a AufenthG", "residence_permit", "§ 25a"),
        ("§25b", "residence_permit", "§ 25b"),
        ("Aufenthaltserlaubnis § 25 Abs. 2", "residence_permit", "§ 25 Abs. 2"),
        ("Aufenthaltserlaubnis", "residence_permit", nil),
        ("Freizügigkeit EU", "eu_free_movement", nil),
        ("EU-Bürgerin", "eu_free_movement", nil),
        ("deutsche Staatsangehörigkeit", "german_citizen", nil),
        ("Erlaubnis zum Daueraufenthalt-EU", "other", nil),
        ("Fiktionsbescheinigung", "other", nil),
        ("  unklar, Pass fehlt  ", "other", nil),
    ]

    @Test func freeTextsAreMappedAndEveryTextSurvivesVerbatim() async throws {
        try await TestDatabase.with(migrated: false) { db in
            let client = db.owner.client
            try await withTemporaryDirectory { folder in
                // The database as it was at 0030.
                for file in try FileManager.default.contentsOfDirectory(atPath: TestDatabase.migrationsDirectory.path)
                where file.hasSuffix(".sql") && file < "0031" {
                    try FileManager.default.copyItem(
                        at: TestDatabase.migrationsDirectory.appendingPathComponent(file),
                        to: folder.appendingPathComponent(file)
                    )
                }
                let before = Migrator(migrations: try Migration.load(from: folder), logger: logger)
                #expect(try await before.migrate(client).last == "0030_identity_change_notices")
            }
            let tenant = UUID()
            try await client.query(
                "INSERT INTO tenants (id, slug, name, kind) VALUES (\(tenant), 'altstadt', 'Altstadt', 'district')",
                logger: logger
            )
            var ids: [UUID] = []
            for (text, _, _) in Self.texts + [("", "", nil)] {
                let id = UUID()
                ids.append(id)
                try await client.query(
                    """
                    INSERT INTO clients (tenant_id, id, first_name, last_name, date_of_birth, residence_status)
                    VALUES (\(tenant), \(id), 'Mira', 'Test', '1990-01-01', \(text.isEmpty ? nil : text))
                    """,
                    logger: logger
                )
            }

            _ = try await Migrator(migrations: try Migration.load(from: TestDatabase.migrationsDirectory), logger: logger).migrate(client)

            for (index, (text, title, paragraph)) in Self.texts.enumerated() {
                let row = try #require(
                    try await client.query(
                        "SELECT residence_status, residence_title, residence_paragraph, version FROM clients WHERE id = \(ids[index])",
                        logger: logger
                    ).collect().first
                )
                let (kept, mapped, mappedParagraph, version) = try row.decode((String?, String?, String?, Int).self)
                #expect(kept == text, "the free text survives verbatim")
                #expect(mapped == title, "\(text) → \(title)")
                #expect(mappedParagraph == paragraph, "\(text): paragraph")
                #expect(version == 1, "nobody edited the record")
            }
            let none = try #require(
                try await client.query("SELECT residence_title FROM clients WHERE id = \(ids.last!)", logger: logger).collect().first
            )
            #expect(try none.decode(String?.self) == nil, "no text, no status")

            // Anonymisation (Retention clears the free text) takes the structured status with it.
            try await client.query(
                "UPDATE clients SET residence_status = NULL, residence_valid_until = '2027-01-01', anonymised_at = now() WHERE id = \(ids[0])",
                logger: logger
            )
            let anonymised = try #require(
                try await client.query("SELECT residence_title, residence_valid_until FROM clients WHERE id = \(ids[0])", logger: logger).collect()
                    .first
            )
            let (title, until) = try anonymised.decode((String?, Date?).self)
            #expect(title == nil && until == nil, "an anonymised record keeps no residence status")
        }
    }
}

/// The case manager records the structured status through the API and the client form.
@Suite struct ResidenceStatusRecordingTests {
    static let person = #"{"first_name":"Amira","last_name":"Haddad","date_of_birth":"1990-04-02","consent_given_on":"2026-01-05""#

    @Test func theAPITakesAndReturnsTheStructuredStatus() async throws {
        try await TestApp.with { _, people, client in
            let token = people["wittenCM"].token
            let created = try await client.api(
                .post,
                "/api/v1/clients",
                token: token,
                json: Self.person + #","residence_title":"residence_permit","residence_paragraph":"§ 25b","residence_valid_until":"2027-06-30"}"#
            )
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(created.object["id"] as? String)
            let data = try #require(
                (try await client.api(.get, "/api/v1/clients/\(id)", token: token).object["client"] as? [String: Any])?["data"] as? [String: Any]
            )
            #expect(data["residence_title"] as? String == "residence_permit")
            #expect(data["residence_paragraph"] as? String == "§ 25b")
            #expect(data["residence_valid_until"] as? String == "2027-06-30")
            #expect(data["residence_status"] == nil, "no note, none shown")

            let wrong = try await client.api(
                .post,
                "/api/v1/clients",
                token: token,
                json: Self.person + #","last_name":"Nowak","residence_title":"toleration","residence_paragraph":"§ 60a"}"#
            )
            #expect(wrong.status == .unprocessableContent, "\(wrong.text)")
            #expect(wrong.text.contains("Einen Paragraphen hat nur eine Aufenthaltserlaubnis"))

            // The old free text alone (an integration that does not know the fields): the database maps it.
            let legacy = try await client.api(
                .post,
                "/api/v1/clients",
                token: token,
                json: Self.person + #","allow_duplicate":true,"residence_status":"Duldung"}"#
            )
            let legacyID = try #require(legacy.object["id"] as? String, "\(legacy.status) \(legacy.text)")
            let mapped = try #require(
                (try await client.api(.get, "/api/v1/clients/\(legacyID)", token: token).object["client"] as? [String: Any])?["data"]
                    as? [String: Any]
            )
            #expect(mapped["residence_title"] as? String == "toleration")
            #expect(mapped["residence_status"] as? String == "Duldung")
        }
    }

    @Test func theClientFormOffersTheTitlesWithNonePreselected() async throws {
        try await TestApp.with { _, people, client in
            var browser = WebBrowser()
            _ = try await browser.signIn(people["wittenCM"].email, client)
            let intake = try await browser.get("/aufnahme", client)
            #expect(intake.text.contains(#"<option value="" selected>– bitte wählen –</option><option value="residence_permit">"#))
            #expect(intake.text.contains("Duldung"))
            // A note without a title is refused on the form, with a German message.
            let refused = try await browser.post(
                "/aufnahme",
                [("first_name", "Amira"), ("last_name", "Haddad"), ("date_of_birth", "1990-04-02"), ("residence_status", "irgendwas")],
                client
            )
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("Bitte den Aufenthaltsstatus wählen"))
        }
    }
}
