import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Kreiswerk

/// Project groups and the steering group: members (with and without account), meetings, tasks,
/// the 20-member limit, decision papers and decisions, and the reminders the scheduler sends.
@Suite struct CommitteeTests {
    static func districtGroup(_ client: some TestClientProtocol, _ token: String) async throws -> String {
        let group = try await client.api(
            .post,
            "/api/v1/project-groups",
            token: token,
            json: #"{"level":"district","name":"PG Ausländerbehörde","topic":"Wartezeiten"}"#
        )
        #expect(group.status == .created, "\(group.text)")
        return try #require(group.object["id"] as? String)
    }

    @Test func aDecisionPaperIsAcceptedInASteeringMeeting() async throws {
        try await TestApp.with { _, people, client in
            let coordinator = people["coordinator"].token
            let group = try await Self.districtGroup(client, coordinator)
            let steeringMember = people["steering"]
            let before = try await client.api(.get, "/api/v1/steering-group", token: steeringMember.token).object["members"] as? [Any]
            #expect(before?.isEmpty == true, "not yet a member: sees no steering group")
            let added = try await client.api(
                .post,
                "/api/v1/steering-group/members",
                token: coordinator,
                json: #"{"name":"Sozialdezernentin Witten","body":"Stadt Witten","body_kind":"municipality","email":"\#(steeringMember.email)"}"#
            )
            #expect(added.status == .created, "\(added.text)")
            let planned = try await client.api(
                .post,
                "/api/v1/steering-group/meetings",
                token: coordinator,
                json:
                    #"{"scheduled_at":"2027-02-10T09:00:00Z","location":"Kreishaus Schwelm","agenda":"1. Wartezeiten ABH","agenda_deadline":"2027-01-27"}"#
            )
            #expect(planned.status == .created, "\(planned.text)")
            let meeting = try #require((planned.object["meetings"] as? [[String: Any]])?.first?["id"] as? String)
            let submitted = try await client.api(
                .post,
                "/api/v1/steering-group/papers",
                token: coordinator,
                json:
                    #"{"title":"Gemeinsame Terminvergabe","proposal":"Die ABH vergibt Termine über ein gemeinsames Portal.","group_id":"\#(group)","meeting_id":"\#(meeting)"}"#
            )
            #expect(submitted.status == .created, "\(submitted.text)")
            let paper = try #require((submitted.object["papers"] as? [[String: Any]])?.first?["id"] as? String)
            let tooMany = try await client.api(
                .post,
                "/api/v1/steering-group/papers/\(paper)/decision",
                token: coordinator,
                json: #"{"meeting_id":"\#(meeting)","decision":"accepted","votes_for":15,"votes_against":5,"abstentions":1}"#
            )
            #expect(tooMany.status == .unprocessableContent)
            let decided = try await client.api(
                .post,
                "/api/v1/steering-group/papers/\(paper)/decision",
                token: coordinator,
                json: #"{"meeting_id":"\#(meeting)","decision":"accepted","votes_for":1,"votes_against":0,"abstentions":0,"note":"Start im Mai"}"#
            )
            #expect(decided.status == .ok, "\(decided.text)")
            // The steering member reads the paper and its decision; it cannot be decided twice.
            let seen = try await client.api(.get, "/api/v1/steering-group", token: steeringMember.token).object
            let seenPaper = try #require((seen["papers"] as? [[String: Any]])?.first)
            #expect(seenPaper["status"] as? String == "accepted")
            #expect((seenPaper["decisions"] as? [[String: Any]])?.first?["votes_for"] as? Int == 1, "the one member recorded voted")
            #expect(
                try await client.api(
                    .post,
                    "/api/v1/steering-group/papers/\(paper)/decision",
                    token: coordinator,
                    json: #"{"meeting_id":"\#(meeting)","decision":"rejected","votes_for":0,"votes_against":0,"abstentions":0}"#
                ).status == .conflict
            )
            #expect(try await client.api(.post, "/api/v1/steering-group/members", token: steeringMember.token, json: "{}").status == .forbidden)
        }
    }

    @Test func theTwentyFirstMemberIsRefused() async throws {
        try await TestApp.with { _, people, client in
            let coordinator = people["coordinator"].token
            for seat in 1...20 {
                let added = try await client.api(
                    .post,
                    "/api/v1/steering-group/members",
                    token: coordinator,
                    json: #"{"name":"Mitglied \#(seat)","body":"Stelle \#(seat)","body_kind":"other"}"#
                )
                #expect(added.status == .created, "seat \(seat): \(added.text)")
            }
            let refused = try await client.api(
                .post,
                "/api/v1/steering-group/members",
                token: coordinator,
                json: #"{"name":"Mitglied 21","body":"Stelle 21","body_kind":"other"}"#
            )
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("bereits 20 Mitglieder"))
            let members = try await client.api(.get, "/api/v1/steering-group", token: coordinator).object["members"] as? [[String: Any]] ?? []
            #expect(members.count == 20)
            // A seat freed is a seat to fill.
            let first = try #require(members.first?["id"] as? String)
            #expect(try await client.api(.delete, "/api/v1/steering-group/members/\(first)", token: coordinator).status == .noContent)
            #expect(
                try await client.api(
                    .post,
                    "/api/v1/steering-group/members",
                    token: coordinator,
                    json: #"{"name":"Mitglied 21","body":"Stelle 21","body_kind":"other"}"#
                ).status == .created
            )
        }
    }

    @Test func projectGroupMembersMeetingsAndTaskReminders() async throws {
        try await TestApp.with { db, people, client in
            let coordinator = people["coordinator"].token
            let created = try await client.api(
                .post,
                "/api/v1/project-groups",
                token: coordinator,
                json: #"{"level":"municipal","town":"witten","name":"PG Witten Wohnen"}"#
            )
            #expect(created.status == .created, "\(created.text)")
            let group = try #require(created.object["id"] as? String)
            #expect(
                try await client.api(.post, "/api/v1/project-groups", token: coordinator, json: #"{"level":"municipal","name":"ohne Stadt"}"#).status
                    == .unprocessableContent
            )
            let cm = people["wittenCM"]
            #expect(
                try await client.api(.post, "/api/v1/project-groups/\(group)/members", token: coordinator, json: #"{"email":"\#(cm.email)"}"#).status
                    == .created
            )
            let external = try await client.api(
                .post,
                "/api/v1/project-groups/\(group)/members",
                token: coordinator,
                json: #"{"name":"Aylin K.","organisation":"Integrationsrat Witten"}"#
            )
            #expect(external.status == .created)
            #expect((external.object["members"] as? [[String: Any]])?.contains { $0["external"] as? Bool == true } == true)
            let inFiveDays = ISO8601DateFormatter().string(from: ReminderRuleTests.days(5))
            #expect(
                try await client.api(
                    .post,
                    "/api/v1/project-groups/\(group)/meetings",
                    token: coordinator,
                    json: #"{"scheduled_at":"\#(inFiveDays)"}"#
                ).status
                    == .created
            )
            let task = try await client.api(
                .post,
                "/api/v1/project-groups/\(group)/tasks",
                token: coordinator,
                json: #"{"text":"Wohnungsmarkt-Daten sammeln","owner_email":"\#(cm.email)","due_on":"\#(Day(ReminderRuleTests.days(2)).iso)"}"#
            )
            #expect(task.status == .created, "\(task.text)")

            // The member with an account reads the group; Hattingen does not.
            #expect(try await client.api(.get, "/api/v1/project-groups/\(group)", token: cm.token).status == .ok)
            #expect(try await client.api(.get, "/api/v1/project-groups/\(group)", token: people["hattingenCM"].token).status == .notFound)
            #expect(try await client.api(.get, "/api/v1/project-groups", token: people["hattingenCM"].token).array.isEmpty)

            try await ReminderRuleTests.sweep(db, asOf: Date())
            let sent = try await ReminderRuleTests.notifications(db)
            #expect(sent.contains { $0.user == cm.id && $0.kind == "committee_meeting" }, "\(sent)")
            #expect(sent.contains { $0.user == cm.id && $0.kind == "group_task" }, "\(sent)")
            #expect(sent.contains { $0.user == people["coordinator"].id && $0.kind == "committee_meeting" })
        }
    }

    @Test func steeringMembersAreRemindedBeforeAMeetingAndAtTheAgendaDeadline() async throws {
        try await TestApp.with { db, people, client in
            let coordinator = people["coordinator"].token
            let member = people["steering"]
            #expect(
                try await client.api(
                    .post,
                    "/api/v1/steering-group/members",
                    token: coordinator,
                    json: #"{"name":"Dezernentin","body":"Stadt Witten","body_kind":"municipality","email":"\#(member.email)"}"#
                ).status == .created
            )
            let meetingDay = ISO8601DateFormatter().string(from: ReminderRuleTests.days(20))
            let deadline = Day(ReminderRuleTests.days(10)).iso
            #expect(
                try await client.api(
                    .post,
                    "/api/v1/steering-group/meetings",
                    token: coordinator,
                    json: #"{"scheduled_at":"\#(meetingDay)","agenda_deadline":"\#(deadline)"}"#
                ).status == .created
            )
            func sent(_ prefix: String) async throws -> Set<UUID> {
                Set(try await ReminderRuleTests.notifications(db).filter { $0.kind == "committee_meeting" && $0.title.contains(prefix) }.map(\.user))
            }
            try await ReminderRuleTests.sweep(db, asOf: ReminderRuleTests.days(9))
            #expect(try await sent("Tagesordnungsschluss").isEmpty)
            try await ReminderRuleTests.sweep(db, asOf: ReminderRuleTests.days(10))
            #expect(try await sent("Tagesordnungsschluss") == [member.id, people["coordinator"].id])
            #expect(try await sent("Lenkungsgruppe: Sitzung am").isEmpty, "the meeting itself is more than 7 days ahead")
            try await ReminderRuleTests.sweep(db, asOf: ReminderRuleTests.days(14))
            #expect(try await sent("Lenkungsgruppe: Sitzung am") == [member.id, people["coordinator"].id])
        }
    }
}
