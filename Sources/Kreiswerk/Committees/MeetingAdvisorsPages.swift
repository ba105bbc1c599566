import Foundation
import Hummingbird

/// A steering meeting's page, `/gremien/lenkungsgruppe/sitzungen/{meeting}`: its agenda, the members who vote, and the
/// advisors invited to this meeting only ("Beratend eingeladen"), whom the coordinators invite and withdraw.
struct MeetingAdvisorsPages {
    let advisors: MeetingAdvisors
    let pages: Pages
    let policy: Policy

    static let labels = [
        "member_id": "Beratendes Mitglied", "name": "Name", "body": "Stelle", "email": "E-Mail-Adresse", "topic": "Tagesordnungspunkt oder Thema",
    ]

    static func path(_ meeting: UUID) -> String { "\(CommitteePages.steeringPath)/sitzungen/\(meeting.uuidString.lowercased())" }

    func register(on routes: GuardedRouter) {
        routes.get("\(CommitteePages.steeringPath)/sitzungen/{meeting}", .runCommittees) { request, context in
            try await page(context, id: try context.id("meeting"), done: request.uri.queryParameters["erledigt"].map(String.init))
        }
        action(routes, "beratende", done: "eingeladen") { meeting, form, context in
            let member = form["member_id"].isEmpty ? nil : UUID(uuidString: form["member_id"])
            if !form["member_id"].isEmpty && member == nil {
                throw InvalidInput(field: "member_id", "Bitte ein beratendes Mitglied aus der Liste wählen.")
            }
            _ = try await advisors.invite(
                NewMeetingAdvisor(
                    memberID: member,
                    name: form["name"].isEmpty ? nil : form["name"],
                    body: form["body"].isEmpty ? nil : form["body"],
                    email: form["email"].isEmpty ? nil : form["email"],
                    topic: form["topic"]
                ),
                to: meeting,
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        action(routes, "beratende/{advisor}/zurueckziehen", done: "zurueckgezogen") { meeting, _, context in
            _ = try await advisors.withdraw(try context.id("advisor"), from: meeting, by: context.identity, clientAddress: context.clientAddress)
        }
    }

    /// A form on the meeting's page; errors show on the page, success returns to it with what was done.
    private func action(
        _ routes: GuardedRouter,
        _ action: String,
        done: String,
        _ perform: @escaping @Sendable (UUID, Form, SignedInContext) async throws -> Void
    ) {
        routes.post("\(CommitteePages.steeringPath)/sitzungen/{meeting}/\(action)", .coordinateDistrict) { _, context -> Response in
            let meeting = try context.id("meeting")
            do {
                try await perform(meeting, context.form, context)
            } catch let error as InvalidInput {
                return try await page(context, id: meeting, errors: error, status: .unprocessableContent)
            } catch DomainError.conflict(let message) {
                return try await page(context, id: meeting, message: message, status: .conflict)
            }
            return .redirect(to: "\(Self.path(meeting))?erledigt=\(done)", type: .normal)
        }
    }

    func page(
        _ context: SignedInContext,
        id: UUID,
        errors: InvalidInput? = nil,
        message: String? = nil,
        done: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let view = try await advisors.meeting(id, by: context.identity, clientAddress: context.clientAddress)
        let meeting = view.meeting
        var data: [String: Any] = [
            "inviting": policy.allows(context.identity, .coordinateDistrict), "meetingPath": Self.path(id),
            "when": GermanFormat.dateTime(meeting.scheduledAt), "location": meeting.location.nonEmpty as Any,
            "agenda": meeting.agenda.nonEmpty as Any, "deadline": meeting.agendaDeadline?.german as Any,
            "voting": view.votingMembers.map(CommitteePages.member), "votingCount": view.votingMembers.count,
            "advisors": view.advisors.map { advisor in
                [
                    "id": advisor.id.uuidString.lowercased(), "name": advisor.name, "body": advisor.body, "topic": advisor.topic,
                    "member": advisor.memberID != nil, "notified": advisor.notified, "by": advisor.invitedBy,
                ] as [String: Any]
            },
            "invitable": view.invitableMembers.map(CommitteePages.member), "hasInvitable": !view.invitableMembers.isEmpty,
        ]
        switch done {
        case "eingeladen": data["notice"] = "Eingeladen: Die Person ist zu dieser Sitzung beratend eingeladen und stimmt nicht ab."
        case "zurueckgezogen": data["notice"] = "Zurückgezogen: Die Einladung zu dieser Sitzung ist zurückgenommen."
        default: break
        }
        if let errors { data.merge(FormErrors.values(errors.errors, labels: Self.labels)) { $1 } }
        if let message { data["message"] = message }
        return pages.render("steering-meeting", data, identity: context.identity, path: "/gremien", status: status)
    }
}
