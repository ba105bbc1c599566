import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Kreiswerk

/// Stand-ins through the API (issue 17): list, name and end with the same rules as the stand-in page, and a notice in the
/// inbox of the colleague named as stand-in.
@Suite struct StandInAPITests {
    static func day(_ offset: Int) -> Day { StandInTests.day(offset) }

    static func body(_ standIn: UUID, for absent: UUID? = nil, from: Day, to: Day) -> String {
        let absent = absent.map { #","absent_id":"\#($0.uuidString.lowercased())""# } ?? ""
        return #"{"stand_in_id":"\#(standIn.uuidString.lowercased())"\#(absent),"starts_on":"\#(from.iso)","ends_on":"\#(to.iso)"}"#
    }

    @Test func aCaseManagerNamesListsAndEndsTheirStandInAndTheColleagueIsNotified() async throws {
        try await TestApp.with { db, people, client in
            let (colleague, colleagueToken, _) = try await StandInTests.colleague(db, client)
            let cm = people["wittenCM"]
            let named = try await client.api(
                .post,
                "/api/v1/stand-ins",
                token: cm.token,
                json: Self.body(colleague.id, from: .today, to: Self.day(7))
            )
            #expect(named.status == .created, "\(named.text)")
            let record = named.object
            let id = try #require(record["id"] as? String)
            #expect(record["absent_name"] as? String == "wittenCM" && record["stand_in_name"] as? String == "Kollegin Witten")
            #expect(record["starts_on"] as? String == Day.today.iso && record["ends_on"] as? String == Self.day(7).iso)
            #expect(record["active"] as? Bool == true)
            #expect(record["ended_at"] == nil, "an absent value is left out")

            // The colleague named finds a notice in her inbox: whom she stands in for, and for how long.
            let inbox = try await client.api(.get, "/api/v1/notifications", token: colleagueToken).array
            let notice = try #require(inbox.first { $0["kind"] as? String == "stand_in" }, "\(inbox)")
            #expect(
                notice["title"] as? String == "Sie vertreten wittenCM vom \(Day.today.german) bis \(Self.day(7).german): "
                    + "die offenen Fälle stehen in dieser Zeit unter „Meine Fälle“."
            )
            #expect(notice["link"] as? String == "/faelle")

            // Both see it: wittenCM as her own absence, the colleague as whom she stands in for; a case manager sees no tenant list.
            let mine = try await client.api(.get, "/api/v1/stand-ins", token: cm.token).object
            #expect((mine["mine"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
            #expect((mine["standing_in"] as? [[String: Any]])?.isEmpty == true)
            #expect(mine["tenant"] == nil)
            let hers = try await client.api(.get, "/api/v1/stand-ins", token: colleagueToken).object
            #expect((hers["standing_in"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])

            // The stand-in herself does not end it; another town does not find it; wittenCM does, once.
            #expect(try await client.api(.post, "/api/v1/stand-ins/\(id)/end", token: colleagueToken).status == .forbidden)
            #expect(try await client.api(.post, "/api/v1/stand-ins/\(id)/end", token: people["hattingenCM"].token).status == .notFound)
            let ended = try await client.api(.post, "/api/v1/stand-ins/\(id)/end", token: cm.token)
            #expect(ended.status == .ok, "\(ended.text)")
            #expect(ended.object["ended_at"] is String && ended.object["active"] as? Bool == false)
            let again = try await client.api(.post, "/api/v1/stand-ins/\(id)/end", token: cm.token)
            #expect(again.status == .unprocessableContent && again.text.contains("bereits beendet"), "\(again.text)")
            #expect((try await client.api(.get, "/api/v1/stand-ins", token: cm.token).object["mine"] as? [[String: Any]])?.isEmpty == true)
        }
    }

    @Test func onlyATeamLeadNamesOneForSomeoneElseAndTheNoticeSaysWhoDid() async throws {
        try await TestApp.with { db, people, client in
            let (colleague, colleagueToken, _) = try await StandInTests.colleague(db, client)
            let cm = people["wittenCM"]
            let forbidden = try await client.api(
                .post,
                "/api/v1/stand-ins",
                token: colleagueToken,
                json: Self.body(people["wittenLead"].id, for: cm.id, from: .today, to: Self.day(2))
            )
            #expect(forbidden.status == .forbidden && forbidden.text.contains("Amts- oder Teamleitung"), "\(forbidden.text)")

            let lead = people["wittenLead"]
            let named = try await client.api(
                .post,
                "/api/v1/stand-ins",
                token: lead.token,
                json: Self.body(colleague.id, for: cm.id, from: Self.day(1), to: Self.day(1))
            )
            #expect(named.status == .created, "\(named.text)")
            let inbox = try await client.api(.get, "/api/v1/notifications", token: colleagueToken).array
            #expect(
                inbox.contains {
                    $0["title"] as? String
                        == "Sie vertreten wittenCM am \(Self.day(1).german) (eingetragen von wittenLead): die offenen Fälle stehen in dieser Zeit unter „Meine Fälle“."
                },
                "\(inbox)"
            )
            #expect(try await client.api(.get, "/api/v1/notifications", token: cm.token).array.allSatisfy { $0["kind"] as? String != "stand_in" })
            let overview = try await client.api(.get, "/api/v1/stand-ins", token: lead.token).object
            #expect((overview["tenant"] as? [[String: Any]])?.count == 1, "a team lead sees the tenant's stand-ins")
            #expect((overview["tenant"] as? [[String: Any]])?.first?["active"] as? Bool == false, "it starts tomorrow")
        }
    }

    @Test func badInputIsA4xxThatSaysWhatToFix() async throws {
        try await TestApp.with { _, people, client in
            let cm = people["wittenCM"]
            let selfNamed = try await client.api(.post, "/api/v1/stand-ins", token: cm.token, json: Self.body(cm.id, from: .today, to: Self.day(1)))
            #expect(selfNamed.status == .unprocessableContent && selfNamed.text.contains("Sie können sich nicht selbst vertreten"))
            let reversed = try await client.api(
                .post,
                "/api/v1/stand-ins",
                token: cm.token,
                json: Self.body(people["wittenLead"].id, from: Self.day(3), to: Self.day(1))
            )
            #expect(reversed.status == .unprocessableContent && reversed.text.contains("vor ihrem Beginn"))
            let missing = try await client.api(.post, "/api/v1/stand-ins", token: cm.token, json: #"{"stand_in_id":"nicht-uuid"}"#)
            #expect(missing.status == .badRequest, "\(missing.text)")
            #expect(try await client.api(.post, "/api/v1/stand-ins/nicht-uuid/end", token: cm.token).status == .notFound)
            #expect(try await client.api(.get, "/api/v1/stand-ins", token: people["wittenAdmin"].token).status == .forbidden)
        }
    }
}
