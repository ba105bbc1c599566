import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// The steering group (issue 19): papers for information as well as for decision, papers from the coordinators (not only
/// from district project groups), advisory members who do not vote.
@Suite struct SteeringPapersTests {
    @Test func theCoordinatorsPutAPaperForInformationWhichIsTakenNoteOfWithoutAVote() async throws {
        try await TestApp.with { db, people, client in
            let coordinator = people["coordinator"].token
            let planned = try await client.api(
                .post,
                "/api/v1/steering-group/meetings",
                token: coordinator,
                json: #"{"scheduled_at":"2027-02-10T09:00:00Z","location":"Kreishaus Schwelm","agenda":"1. Gute Praxis"}"#
            )
            let meeting = try #require((planned.object["meetings"] as? [[String: Any]])?.first?["id"] as? String)
            #expect(
                try await client.api(
                    .post,
                    "/api/v1/steering-group/papers",
                    token: coordinator,
                    json: #"{"title":"x","proposal":"y","purpose":"irgendwas"}"#
                ).status == .unprocessableContent
            )
            // No project group: the coordinators' own paper, for information.
            let submitted = try await client.api(
                .post,
                "/api/v1/steering-group/papers",
                token: coordinator,
                json:
                    #"{"title":"Gute Praxis: Sprachcafé in Hattingen","proposal":"Hattingen lädt wöchentlich zum Sprachcafé ein; drei Städte wollen es übernehmen.","purpose":"information","meeting_id":"\#(meeting)"}"#
            )
            #expect(submitted.status == .created, "\(submitted.text)")
            let paper = try #require((submitted.object["papers"] as? [[String: Any]])?.first)
            #expect(paper["purpose"] as? String == "information")
            #expect(paper["source"] as? String == "coordination")
            #expect(paper["group"] as? String == "Koordinierungsstelle")
            #expect(paper["submitted_by"] as? String == "coordinator")
            let id = try #require(paper["id"] as? String)
            let path = "/api/v1/steering-group/papers/\(id)/decision"
            func decide(_ decision: String, votes: Int, on paper: String = path, as token: String = coordinator) async throws -> TestResponse {
                try await client.api(
                    .post,
                    paper,
                    token: token,
                    json: #"{"meeting_id":"\#(meeting)","decision":"\#(decision)","votes_for":\#(votes),"votes_against":0,"abstentions":0}"#
                )
            }
            // Not voted on: neither accepted nor noted with votes.
            let voted = try await decide("accepted", votes: 5)
            #expect(voted.status == .unprocessableContent, "\(voted.text)")
            #expect(try await decide("noted", votes: 5).status == .unprocessableContent)
            let noted = try await decide("noted", votes: 0)
            #expect(noted.status == .ok, "\(noted.text)")
            #expect((noted.object["papers"] as? [[String: Any]])?.first?["status"] as? String == "noted")

            // A decision paper of the coordinators is voted on, not taken note of.
            let decision = try await client.api(
                .post,
                "/api/v1/steering-group/papers",
                token: coordinator,
                json: #"{"title":"Gemeinsame Terminvergabe","proposal":"Die ABH vergibt Termine über ein Portal.","purpose":"decision"}"#
            )
            let decisionID = try #require(
                (decision.object["papers"] as? [[String: Any]])?.first { $0["purpose"] as? String == "decision" }?["id"] as? String
            )
            #expect(try await decide("noted", votes: 0, on: "/api/v1/steering-group/papers/\(decisionID)/decision").status == .unprocessableContent)

            // Another district's coordinator: none of it.
            let other = try await LadderTests.otherDistrictsCoordinator(db)
            #expect(try await decide("noted", votes: 0, as: other).status == .notFound)
            #expect((try await client.api(.get, "/api/v1/steering-group", token: other).object["papers"] as? [Any])?.isEmpty ?? true)
        }
    }

    @Test func anAdvisoryMemberIsListedAsSuch() async throws {
        try await TestApp.with { _, people, client in
            let added = try await client.api(
                .post,
                "/api/v1/steering-group/members",
                token: people["coordinator"].token,
                json: #"{"name":"Vorsitz Integrationsrat Witten","body":"Integrationsrat Witten","body_kind":"other","advisory":true}"#
            )
            #expect(added.status == .created, "\(added.text)")
            let member = (added.object["members"] as? [[String: Any]])?.first
            #expect(member?["advisory"] as? Bool == true)

            var browser = WebBrowser()
            _ = try await browser.signIn(people["coordinator"].email, client)
            let page = try await browser.get("/gremien/lenkungsgruppe", client)
            #expect(page.text.contains("beratend, ohne Stimmrecht"))
            #expect(page.text.contains("zur Kenntnisnahme"))
            // Nothing with consequences is preselected: the paper's purpose is chosen.
            #expect(!page.text.contains("name=\"purpose\" value=\"decision\" checked"))
            let refused = try await browser.post("/gremien/lenkungsgruppe/vorlagen", [("title", "Lagebericht"), ("proposal", "Text")], client)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("zur Entscheidung oder zur Kenntnisnahme"))
            let posted = try await browser.post(
                "/gremien/lenkungsgruppe/vorlagen",
                [("title", "Lagebericht 2026"), ("proposal", "Zahlen des Jahres."), ("purpose", "information"), ("group_id", "")],
                client
            )
            #expect(posted.status == .seeOther, "\(posted.text.prefix(300))")
            let after = try await browser.get("/gremien/lenkungsgruppe", client)
            #expect(after.text.contains("Lagebericht 2026") && after.text.contains("eingebracht von Koordinierungsstelle"))
        }
    }

    @Test func aVoteCountsNoMoreThanTheVotingMembersAndMatchesTheDecision() async throws {
        try await TestApp.with { _, people, client in
            let coordinator = people["coordinator"].token
            for (name, advisory) in [
                ("Landrat", false), ("Sozialdezernentin Witten", false), ("Leitung Jobcenter", false), ("Integrationsrat", true),
            ] {
                let added = try await client.api(
                    .post,
                    "/api/v1/steering-group/members",
                    token: coordinator,
                    json: #"{"name":"\#(name)","body":"\#(name)","body_kind":"other","advisory":\#(advisory)}"#
                )
                #expect(added.status == .created, "\(added.text)")
            }
            let planned = try await client.api(
                .post,
                "/api/v1/steering-group/meetings",
                token: coordinator,
                json: #"{"scheduled_at":"2027-03-10T09:00:00Z","location":"Kreishaus Schwelm","agenda":"1. Terminportal"}"#
            )
            let meeting = try #require((planned.object["meetings"] as? [[String: Any]])?.first?["id"] as? String)
            let submitted = try await client.api(
                .post,
                "/api/v1/steering-group/papers",
                token: coordinator,
                json: #"{"title":"Gemeinsames Terminportal","proposal":"Die ABH vergibt Termine über ein Portal.","purpose":"decision"}"#
            )
            let paper = try #require((submitted.object["papers"] as? [[String: Any]])?.first?["id"] as? String)
            func decide(_ decision: String, _ yes: Int, _ no: Int, _ abstaining: Int) async throws -> TestResponse {
                try await client.api(
                    .post,
                    "/api/v1/steering-group/papers/\(paper)/decision",
                    token: coordinator,
                    json:
                        #"{"meeting_id":"\#(meeting)","decision":"\#(decision)","votes_for":\#(yes),"votes_against":\#(no),"abstentions":\#(abstaining)}"#
                )
            }
            // Three members vote; the advisory one does not.
            let tooMany = try await decide("accepted", 3, 1, 0)
            #expect(tooMany.status == .unprocessableContent)
            #expect(tooMany.text.contains("3 stimmberechtigte Mitglieder"), "\(tooMany.text)")
            let outvoted = try await decide("accepted", 1, 2, 0)
            #expect(outvoted.status == .unprocessableContent)
            #expect(outvoted.text.contains("nicht angenommen"), "\(outvoted.text)")
            #expect(try await decide("rejected", 2, 1, 0).status == .unprocessableContent)
            let accepted = try await decide("accepted", 2, 1, 0)
            #expect(accepted.status == .ok, "\(accepted.text)")
            #expect((accepted.object["papers"] as? [[String: Any]])?.first?["status"] as? String == "accepted")
        }
    }
}
