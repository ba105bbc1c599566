import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Kreiswerk

/// Issue 19: advisory members invited to single meetings of the steering group (seed 001: "punktuell beratend"). The
/// coordinators invite an advisory member or a person who is not a member to one meeting, with the topic they advise on;
/// they show on that meeting only, never among those who vote; the invitation can be withdrawn.
@Suite struct MeetingAdvisorsTests {
    /// A voting member (the steering account), an advisory member and two meetings; returns (meeting 1, meeting 2, advisory member).
    static func steeringGroup(_ client: some TestClientProtocol, _ people: TestApp.People) async throws -> (String, String, String) {
        let coordinator = people["coordinator"].token
        let voting = try await client.api(
            .post,
            "/api/v1/steering-group/members",
            token: coordinator,
            json: #"{"name":"Sozialdezernentin Witten","body":"Stadt Witten","body_kind":"municipality","email":"\#(people["steering"].email)"}"#
        )
        #expect(voting.status == .created, "\(voting.text)")
        let advisory = try await client.api(
            .post,
            "/api/v1/steering-group/members",
            token: coordinator,
            json: #"{"name":"Vorsitz Integrationsrat Witten","body":"Integrationsrat Witten","body_kind":"other","advisory":true}"#
        )
        let advisoryID = try #require(
            (advisory.object["members"] as? [[String: Any]])?.first { $0["advisory"] as? Bool == true }?["id"] as? String
        )
        var meetings: [String] = []
        for day in ["2027-03-10", "2027-06-09"] {
            let planned = try await client.api(
                .post,
                "/api/v1/steering-group/meetings",
                token: coordinator,
                json: #"{"scheduled_at":"\#(day)T09:00:00Z","location":"Kreishaus Schwelm","agenda":"1. Wartezeiten ABH\n2. Sprachkurse"}"#
            )
            #expect(planned.status == .created, "\(planned.text)")
            let all = planned.object["meetings"] as? [[String: Any]] ?? []
            meetings.append(try #require(all.first { ($0["scheduled_at"] as? String)?.hasPrefix(day) == true }?["id"] as? String))
        }
        return (meetings[0], meetings[1], advisoryID)
    }

    static func names(_ list: Any?) -> [String] { (list as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }.sorted() }

    @Test func anAdvisorIsInvitedToOneMeetingAndDoesNotVote() async throws {
        try await TestApp.with { db, people, client in
            let coordinator = people["coordinator"].token
            let (first, next, advisoryMember) = try await Self.steeringGroup(client, people)
            let base = "/api/v1/steering-group/meetings"
            let member = try await client.api(
                .post,
                "\(base)/\(first)/advisors",
                token: coordinator,
                json: #"{"member_id":"\#(advisoryMember)","topic":"TOP 2: Sprachkurse"}"#
            )
            #expect(member.status == .created, "\(member.text)")
            // A person who is not a member, with the address of an account in the district: notified through Kreiswerk.
            let guest = try await client.api(
                .post,
                "\(base)/\(first)/advisors",
                token: coordinator,
                json: #"{"name":"Dr. Aylin Demir","body":"Jobcenter EN, Migrationsberatung","email":"\#(people["wittenCM"].email)","topic":"TOP 1"}"#
            )
            #expect(guest.status == .created, "\(guest.text)")
            let seen = try await client.api(.get, "\(base)/\(first)/advisors", token: coordinator).object
            #expect(Self.names(seen["advisors"]) == ["Dr. Aylin Demir", "Vorsitz Integrationsrat Witten"])
            // They never vote: the voting members are the standing members who are not advisory.
            #expect(Self.names(seen["voting_members"]) == ["Sozialdezernentin Witten"])
            #expect(Self.names(seen["invitable_members"]).isEmpty, "the advisory member is invited already")
            let advisors = seen["advisors"] as? [[String: Any]] ?? []
            #expect(advisors.first { $0["name"] as? String == "Dr. Aylin Demir" }?["notified"] as? Bool == true)
            #expect(advisors.first { $0["name"] as? String == "Dr. Aylin Demir" }?["topic"] as? String == "TOP 1")
            let notifications = try await db.owner.withTransaction { connection in
                try await connection.query(
                    "SELECT count(*)::int FROM notifications WHERE user_id = \(people["wittenCM"].id) AND kind = 'committee_meeting'",
                    logger: TestDatabase.logger
                ).collect().first?.decode(Int.self)
            }
            #expect(notifications == 1)

            // The next meeting: nobody invited; the advisory member may be invited there.
            let other = try await client.api(.get, "\(base)/\(next)/advisors", token: coordinator).object
            #expect(Self.names(other["advisors"]).isEmpty)
            #expect(Self.names(other["invitable_members"]) == ["Vorsitz Integrationsrat Witten"])

            // The page lists them under their own heading, apart from those who vote.
            var browser = WebBrowser()
            _ = try await browser.signIn(people["coordinator"].email, client)
            let page = try await browser.get("/gremien/lenkungsgruppe/sitzungen/\(first)", client)
            #expect(page.status == .ok)
            let text = page.text
            let voting = try #require(text.range(of: "id=\"voting-members\""))
            let advising = try #require(text.range(of: "Beratend eingeladen"))
            let votingPart = String(text[voting.lowerBound..<advising.lowerBound])
            #expect(votingPart.contains("Sozialdezernentin Witten") && !votingPart.contains("Demir") && !votingPart.contains("Integrationsrat"))
            #expect(String(text[advising.lowerBound...]).contains("Dr. Aylin Demir"))
            let nextPage = try await browser.get("/gremien/lenkungsgruppe/sitzungen/\(next)", client)
            #expect(!nextPage.text.contains("Demir"))
            #expect(nextPage.text.contains("Zu dieser Sitzung ist niemand beratend eingeladen."))
            let list = try await browser.get("/gremien/lenkungsgruppe", client)
            #expect(list.text.contains("/gremien/lenkungsgruppe/sitzungen/\(first.lowercased())"))

            // Invited twice: refused. Withdrawn: gone from the meeting, and once only.
            let twice = try await client.api(
                .post,
                "\(base)/\(first)/advisors",
                token: coordinator,
                json: #"{"member_id":"\#(advisoryMember)","topic":"TOP 2"}"#
            )
            #expect(twice.status == .conflict)
            let guestID = try #require(advisors.first { $0["name"] as? String == "Dr. Aylin Demir" }?["id"] as? String)
            #expect(try await client.api(.delete, "\(base)/\(first)/advisors/\(guestID)", token: coordinator).status == .noContent)
            #expect(try await client.api(.delete, "\(base)/\(first)/advisors/\(guestID)", token: coordinator).status == .notFound)
            let after = try await client.api(.get, "\(base)/\(first)/advisors", token: coordinator).object
            #expect(Self.names(after["advisors"]) == ["Vorsitz Integrationsrat Witten"])
        }
    }

    @Test func theFormInvitesAndWithdrawsAndSaysWhatItDid() async throws {
        try await TestApp.with { _, people, client in
            let (first, _, _) = try await Self.steeringGroup(client, people)
            let path = "/gremien/lenkungsgruppe/sitzungen/\(first)"
            var browser = WebBrowser()
            _ = try await browser.signIn(people["coordinator"].email, client)
            _ = try await browser.get(path, client)
            let refused = try await browser.post("\(path)/beratende", [("member_id", ""), ("name", ""), ("topic", "")], client)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("Tagesordnungspunkt oder Thema") && refused.text.contains("aria-invalid=\"true\""))
            let invited = try await browser.post(
                "\(path)/beratende",
                [("member_id", ""), ("name", "Leitung Migrationsdienst"), ("body", "Caritas EN"), ("email", ""), ("topic", "TOP 2")],
                client
            )
            #expect(invited.status == .seeOther, "\(invited.text.prefix(300))")
            let page = try await browser.get(invited.headers[.location] ?? path, client)
            #expect(page.text.contains("Eingeladen:") && page.text.contains("Leitung Migrationsdienst"))
            let advisor = try #require(
                page.text.range(of: #"beratende/[0-9a-f-]{36}/zurueckziehen"#, options: .regularExpression).map { String(page.text[$0]) }
            )
            let withdrawn = try await browser.post("\(path)/\(advisor)", [], client)
            #expect(withdrawn.status == .seeOther)
            let after = try await browser.get(withdrawn.headers[.location] ?? path, client)
            #expect(after.text.contains("Zurückgezogen:") && !after.text.contains("Leitung Migrationsdienst"))
        }
    }

    @Test func badInputNamesTheFieldAndOnlyTheDistrictsCoordinatorsInvite() async throws {
        try await TestApp.with { db, people, client in
            let coordinator = people["coordinator"].token
            let (first, _, advisoryMember) = try await Self.steeringGroup(client, people)
            let advisors = "/api/v1/steering-group/meetings/\(first)/advisors"
            let empty = try await client.api(.post, advisors, token: coordinator, json: #"{"topic":""}"#)
            #expect(empty.status == .unprocessableContent)
            #expect(empty.text.contains("topic") && empty.text.contains("name") && empty.text.contains("body"))
            let badMail = try await client.api(
                .post,
                advisors,
                token: coordinator,
                json: #"{"name":"A. Gast","body":"VHS","email":"keine-adresse","topic":"TOP 1"}"#
            )
            #expect(badMail.status == .unprocessableContent && badMail.text.contains("email"))
            // A voting member is not invited as an advisor; a member is chosen from the list, not typed as a guest.
            let group = try await client.api(.get, "/api/v1/steering-group", token: coordinator).object
            let votingID = try #require(
                (group["members"] as? [[String: Any]])?.first { $0["advisory"] as? Bool == false }?["id"] as? String
            )
            let voting = try await client.api(.post, advisors, token: coordinator, json: #"{"member_id":"\#(votingID)","topic":"TOP 1"}"#)
            #expect(voting.status == .unprocessableContent && voting.text.contains("member_id"))
            let typed = try await client.api(
                .post,
                advisors,
                token: coordinator,
                json: #"{"name":"Sozialdezernentin Witten","body":"Stadt Witten","topic":"TOP 1"}"#
            )
            #expect(typed.status == .unprocessableContent && typed.text.contains("name"))

            // The assistant sees the meeting but does not invite; the steering member does not read this list.
            #expect(try await client.api(.get, advisors, token: people["assistant"].token).status == .ok)
            let assistant = try await client.api(
                .post,
                advisors,
                token: people["assistant"].token,
                json: #"{"member_id":"\#(advisoryMember)","topic":"TOP 1"}"#
            )
            #expect(assistant.status == .forbidden)
            #expect(try await client.api(.get, advisors, token: people["steering"].token).status == .forbidden)
            var browser = WebBrowser()
            _ = try await browser.signIn(people["assistant"].email, client)
            let page = try await browser.get("/gremien/lenkungsgruppe/sitzungen/\(first)", client)
            #expect(page.status == .ok && !page.text.contains("id=\"invite-advisor\""))

            // Another district's coordinator: not found, read or write.
            let other = try await LadderTests.otherDistrictsCoordinator(db)
            #expect(try await client.api(.get, advisors, token: other).status == .notFound)
            let foreign = try await client.api(.post, advisors, token: other, json: #"{"member_id":"\#(advisoryMember)","topic":"TOP 1"}"#)
            #expect(foreign.status == .notFound)
            let invited = try await client.api(.post, advisors, token: coordinator, json: #"{"member_id":"\#(advisoryMember)","topic":"TOP 1"}"#)
            let id = try #require((invited.object["advisors"] as? [[String: Any]])?.first?["id"] as? String)
            #expect(try await client.api(.delete, "\(advisors)/\(id)", token: other).status == .notFound)
            #expect(try await client.api(.delete, "\(advisors)/\(id)", token: people["assistant"].token).status == .forbidden)
            // A project group's meeting is not a steering meeting.
            let projectGroup = try await CommitteeTests.districtGroup(client, coordinator)
            let planned = try await client.api(
                .post,
                "/api/v1/project-groups/\(projectGroup)/meetings",
                token: coordinator,
                json: #"{"scheduled_at":"2027-04-01T09:00:00Z"}"#
            )
            let groupMeeting = try #require((planned.object["meetings"] as? [[String: Any]])?.first?["id"] as? String)
            #expect(
                try await client.api(.get, "/api/v1/steering-group/meetings/\(groupMeeting)/advisors", token: coordinator).status == .notFound
            )
        }
    }
}
