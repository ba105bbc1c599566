import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// The coordination pages, driven like a browser without JavaScript: a case manager raises a problem,
/// a coordinator polls, hands it to a group, escalates and solves it; the committees' pages.
@Suite struct CoordinationPageTests {
    @Test func aProblemFromTheCaseManagersFormToASolution() async throws {
        try await TestApp.with { _, people, client in
            let cm = people["wittenCM"].token
            let clientID = try await CaseWorkflowTests.register(client, cm)
            let caseID = try await CaseWorkflowTests.openCase(client, cm, clientID).id.lowercased()

            var witten = WebBrowser()
            _ = try await witten.signIn(people["wittenCM"].email, client)
            let list = try await witten.get("/probleme", client)
            #expect(list.status == .ok)
            #expect(list.text.contains("value=\"\(caseID)\""), "the own open cases are offered")
            let incomplete = try await witten.post("/probleme", [("title", ""), ("category", "structural_gap")], client)
            #expect(incomplete.status == .unprocessableContent)
            #expect(incomplete.text.contains("Bitte einen Titel"))
            _ = try await witten.get("/probleme", client)
            let raised = try await witten.post(
                "/probleme",
                [
                    ("title", "Kein Schulplatz für Seiteneinsteiger"), ("category", "structural_gap"),
                    ("description", "Wartezeit über sechs Monate."),
                    ("legal_spheres", "SGB VIII"), ("case_ids", caseID),
                ],
                client
            )
            #expect(raised.status == .seeOther, "\(raised.text.prefix(500))")
            let path = try #require(raised.headers[.location])

            var coordinator = WebBrowser()
            _ = try await coordinator.signIn(people["coordinator"].email, client)
            #expect(try await coordinator.get("/probleme", client).text.contains("Kein Schulplatz für Seiteneinsteiger"))
            var page = try await coordinator.get(path, client)
            #expect(page.text.contains("id=\"escalate\""))
            let polled = try await coordinator.post("\(path)/umfrage", [("question", "Kennen Sie das?")], client)
            #expect(polled.status == .seeOther)
            #expect(try await coordinator.get(try #require(polled.headers[.location]), client).text.contains("Umfrage an 1 Stadt gesendet"))

            // The group is created and takes the problem.
            _ = try await coordinator.get("/gremien", client)
            let group = try await coordinator.post(
                "/gremien/gruppen",
                [("level", "municipal"), ("town", "witten"), ("name", "PG Schule Witten")],
                client
            )
            #expect(group.status == .seeOther)
            let groupPath = try #require(group.headers[.location])
            #expect(try await coordinator.get(groupPath, client).text.contains("PG Schule Witten"))
            _ = try await coordinator.get(path, client)
            let groupID = try #require(coordinator.lastPage.firstMatch(of: /<option value="([0-9a-f-]{36})"/)?.1)
            var version = try #require(coordinator.lastPage.firstMatch(of: /name="version" value="(\d+)"/)?.1)
            #expect(
                try await coordinator.post("\(path)/zuweisen", [("version", String(version)), ("group_id", String(groupID))], client).status
                    == .seeOther
            )

            // Escalation without a reason is refused with a message; with one it moves up.
            _ = try await coordinator.get(path, client)
            version = try #require(coordinator.lastPage.firstMatch(of: /name="version" value="(\d+)"/)?.1)
            let noReason = try await coordinator.post("\(path)/eskalieren", [("version", String(version)), ("reason", "")], client)
            #expect(noReason.status == .unprocessableContent)
            #expect(noReason.text.contains("Bitte begründen"))
            _ = try await coordinator.get(path, client)
            let stale = try await coordinator.post("\(path)/eskalieren", [("version", "99"), ("reason", "x")], client)
            #expect(stale.status == .conflict)
            _ = try await coordinator.get(path, client)
            let escalated = try await coordinator.post("\(path)/eskalieren", [("version", String(version)), ("reason", "Kreisweites Thema")], client)
            #expect(escalated.status == .seeOther)
            page = try await coordinator.get(try #require(escalated.headers[.location]), client)
            #expect(page.text.contains("Problem weitergegeben: Es liegt jetzt auf der Ebene"), "the escalation says what it did")
            #expect(page.text.contains("Projektgruppe auf Kreisebene seit"))
            #expect(page.text.contains("Kreisweites Thema"))
            #expect(try await coordinator.get("\(path)/anliegen", client).text.contains("Bisheriger Weg durch die Gremien"))

            // Hattingen answers the poll on its page.
            var hattingen = WebBrowser()
            _ = try await hattingen.signIn(people["hattingenCM"].email, client)
            let polls = try await hattingen.get("/umfragen", client)
            #expect(polls.text.contains("Kennen Sie das?"))
            let pollID = try #require(hattingen.lastPage.firstMatch(of: /\/umfragen\/([0-9a-f-]{36})\/antwort/)?.1)
            let answered = try await hattingen.post(
                "/umfragen/\(pollID)/antwort",
                [("known", "1"), ("answer", "Sprachkurs an der Gesamtschule")],
                client
            )
            #expect(answered.status == .seeOther)
            #expect(try await hattingen.get(try #require(answered.headers[.location]), client).text.contains("Antwort gesendet"))
            #expect(try await hattingen.get(path, client).status == .notFound)
            #expect(try await coordinator.get(path, client).text.contains("Sprachkurs an der Gesamtschule"))
        }
    }

    @Test func theSteeringGroupsPage() async throws {
        try await TestApp.with { _, people, client in
            var coordinator = WebBrowser()
            _ = try await coordinator.signIn(people["coordinator"].email, client)
            #expect(try await coordinator.get("/gremien/lenkungsgruppe", client).status == .ok)
            let added = try await coordinator.post(
                "/gremien/lenkungsgruppe/mitglieder",
                [("name", "Landrat"), ("body", "Ennepe-Ruhr-Kreis"), ("body_kind", "district")],
                client
            )
            #expect(added.status == .seeOther)
            _ = try await coordinator.get("/gremien/lenkungsgruppe", client)
            let meeting = try await coordinator.post(
                "/gremien/lenkungsgruppe/sitzungen",
                [("scheduled_at", "2027-03-01T10:00"), ("agenda_deadline", "2027-02-15"), ("agenda", "1. Bericht")],
                client
            )
            #expect(meeting.status == .seeOther)
            let page = try await coordinator.get("/gremien/lenkungsgruppe", client)
            #expect(page.text.contains("Landrat – Ennepe-Ruhr-Kreis"))
            #expect(page.text.contains("Tagesordnungsschluss 15.02.2027"))
            let bad = try await coordinator.post("/gremien/lenkungsgruppe/sitzungen", [("scheduled_at", "")], client)
            #expect(bad.status == .unprocessableContent)

            var steering = WebBrowser()
            _ = try await steering.signIn(people["steering"].email, client)
            #expect(try await steering.get("/gremien/lenkungsgruppe", client).status == .ok)
            var cm = WebBrowser()
            _ = try await cm.signIn(people["wittenCM"].email, client)
            #expect(try await cm.get("/gremien/lenkungsgruppe", client).status == .forbidden)
        }
    }
}
