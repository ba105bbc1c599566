import Foundation
import Hummingbird

/// The committee pages: `/gremien` (project groups, a new group), `/gremien/gruppen/{id}` (members,
/// meetings with minutes, tasks) and `/gremien/lenkungsgruppe` (members, rules of procedure, meetings,
/// decision papers and decisions).
struct CommitteePages {
    let groups: ProjectGroups
    let steering: Steering
    let pages: Pages
    let policy: Policy

    static let labels = [
        "level": "Ebene", "town": "Stadt", "name": "Name", "topic": "Thema", "email": "E-Mail-Adresse", "organisation": "Organisation",
        "scheduled_at": "Termin", "location": "Ort", "agenda": "Tagesordnung", "agenda_deadline": "Tagesordnungsschluss", "minutes": "Protokoll",
        "text": "Aufgabe", "owner": "Zuständig", "owner_email": "E-Mail-Adresse der zuständigen Person", "due_on": "Fällig am",
        "body": "Vertretene Stelle",
        "body_kind": "Art der Stelle", "rules_of_procedure": "Geschäftsordnung", "title": "Titel", "proposal": "Beschlussvorschlag",
        "group_id": "Projektgruppe", "problem_id": "Systemproblem", "meeting_id": "Sitzung", "decision": "Entscheidung", "votes_for": "Stimmen",
        "note": "Anmerkung", "meeting": "Sitzung", "purpose": "Zweck der Vorlage",
    ]
    static let steeringPath = "/gremien/lenkungsgruppe"

    func register(on routes: GuardedRouter) {
        routes.get("/gremien", .ownAccount) { _, context in try await overview(context) }
        routes.post("/gremien/gruppen", .runCommittees) { _, context -> Response in
            let form = context.form
            do {
                let group = try await groups.create(
                    NewProjectGroup(level: form["level"], town: form["town"], name: form["name"], topic: form.raw("topic")),
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
                return .redirect(to: "/gremien/gruppen/\(group.id.uuidString.lowercased())", type: .normal)
            } catch let error as InvalidInput {
                return try await overview(context, errors: error, status: .unprocessableContent)
            }
        }
        routes.get("/gremien/gruppen/{id}", .ownAccount) { _, context in try await groupPage(context, id: try context.id()) }
        groupAction(routes, "mitglieder") { id, form, context in
            _ = try await groups.addMember(
                NewMember(email: form["email"], name: form["name"], organisation: form["organisation"]),
                to: id,
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        groupAction(routes, "mitglieder/{member}/austragen") { id, _, context in
            try await groups.removeMember(try context.id("member"), from: id, by: context.identity, clientAddress: context.clientAddress)
        }
        groupAction(routes, "sitzungen") { id, form, context in
            _ = try await groups.planMeeting(try Self.meeting(form), of: id, by: context.identity, clientAddress: context.clientAddress)
        }
        groupAction(routes, "sitzungen/{meeting}/protokoll") { _, form, context in
            try await steering.recordMinutes(
                try context.id("meeting"),
                version: Int(form["version"]) ?? -1,
                minutes: form.raw("minutes"),
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        groupAction(routes, "aufgaben") { id, form, context in
            guard let due = try Day.parse(form["due_on"], field: "due_on", label: "Fällig am") else {
                throw InvalidInput(field: "due_on", "Bitte ein Fälligkeitsdatum angeben.")
            }
            _ = try await groups.addTask(
                NewTask(text: form["text"], owner: form["owner"], ownerEmail: form["owner_email"], dueOn: due, meetingID: nil),
                to: id,
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        groupAction(routes, "aufgaben/{task}/erledigt") { id, _, context in
            try await groups.completeTask(try context.id("task"), of: id, by: context.identity, clientAddress: context.clientAddress)
        }

        routes.get(Self.steeringPath, .viewSteeringGroup) { _, context in try await steeringPage(context) }
        steeringAction(routes, "mitglieder") { form, context in
            _ = try await steering.addMember(
                NewSteeringMember(
                    name: form["name"],
                    body: form["body"],
                    bodyKind: form["body_kind"],
                    email: form["email"],
                    advisory: form["advisory"] == "1"
                ),
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        steeringAction(routes, "mitglieder/{member}/austragen") { _, context in
            try await steering.removeMember(try context.id("member"), by: context.identity, clientAddress: context.clientAddress)
        }
        steeringAction(routes, "geschaeftsordnung") { form, context in
            _ = try await steering.setRules(
                form.raw("rules_of_procedure"),
                adoptedOn: try Day.parse(form["rules_adopted_on"], field: "rules_adopted_on", label: "Beschlossen am"),
                version: Int(form["version"]) ?? -1,
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        steeringAction(routes, "sitzungen") { form, context in
            _ = try await steering.planMeeting(try Self.meeting(form), by: context.identity, clientAddress: context.clientAddress)
        }
        steeringAction(routes, "sitzungen/{meeting}/protokoll") { form, context in
            try await steering.recordMinutes(
                try context.id("meeting"),
                version: Int(form["version"]) ?? -1,
                minutes: form.raw("minutes"),
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        steeringAction(routes, "vorlagen") { form, context in
            // Empty: the coordinators put it forward themselves.
            let group = form["group_id"].isEmpty ? nil : UUID(uuidString: form["group_id"])
            if !form["group_id"].isEmpty && group == nil {
                throw InvalidInput(field: "group_id", "Bitte die Projektgruppe auf Kreisebene wählen, die die Vorlage einbringt.")
            }
            // Nothing with consequences is preselected: a paper for a decision or for information is chosen.
            guard ["decision", "information"].contains(form["purpose"]) else {
                throw InvalidInput(field: "purpose", "Bitte wählen, ob die Vorlage zur Entscheidung oder zur Kenntnisnahme eingebracht wird.")
            }
            _ = try await steering.submitPaper(
                NewPaper(
                    title: form["title"],
                    proposal: form.raw("proposal"),
                    groupID: group,
                    problemID: UUID(uuidString: form["problem_id"]),
                    meetingID: UUID(uuidString: form["meeting_id"]),
                    purpose: form["purpose"]
                ),
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        steeringAction(routes, "vorlagen/{paper}/entscheidung") { form, context in
            guard let meeting = UUID(uuidString: form["meeting_id"]) else {
                throw InvalidInput(field: "meeting_id", "Bitte die Sitzung wählen, in der entschieden wurde.")
            }
            func votes(_ field: String) throws -> Int {
                guard let value = Int(form[field].isEmpty ? "0" : form[field]) else {
                    throw InvalidInput(field: field, "Bitte die Stimmen als Zahl angeben.")
                }
                return value
            }
            _ = try await steering.decide(
                try context.id("paper"),
                NewDecision(
                    meetingID: meeting,
                    decision: form["decision"],
                    votesFor: try votes("votes_for"),
                    votesAgainst: try votes("votes_against"),
                    abstentions: try votes("abstentions"),
                    note: form.raw("note")
                ),
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
    }

    static func meeting(_ form: Form) throws -> NewMeeting {
        guard let at = try Day.enteredInstant(form["scheduled_at"], field: "scheduled_at") else {
            throw InvalidInput(field: "scheduled_at", "Bitte Datum und Uhrzeit der Sitzung angeben.")
        }
        return NewMeeting(
            scheduledAt: at,
            location: form["location"],
            agenda: form.raw("agenda"),
            agendaDeadline: try Day.parse(form["agenda_deadline"], field: "agenda_deadline", label: "Tagesordnungsschluss")
        )
    }

    /// A form on a project group's page: `POST /gremien/gruppen/{id}/<action>`; errors show on the page.
    private func groupAction(
        _ routes: GuardedRouter,
        _ action: String,
        _ perform: @escaping @Sendable (UUID, Form, SignedInContext) async throws -> Void
    ) {
        routes.pageForm(
            "/gremien/gruppen",
            action,
            .runCommittees,
            page: { try await groupPage($0, id: $1, errors: $2, message: $3, status: $4) },
            perform
        )
    }

    /// A form on the steering group's page: `POST /gremien/lenkungsgruppe/<action>`.
    private func steeringAction(
        _ routes: GuardedRouter,
        _ action: String,
        _ perform: @escaping @Sendable (Form, SignedInContext) async throws -> Void
    ) {
        routes.post("\(Self.steeringPath)/\(action)", .runCommittees) { _, context -> Response in
            do {
                try await perform(context.form, context)
            } catch let error as InvalidInput {
                return try await steeringPage(context, errors: error, status: .unprocessableContent)
            } catch DomainError.stale(let message) {
                return try await steeringPage(context, message: message, status: .conflict)
            } catch DomainError.conflict(let message) {
                return try await steeringPage(context, message: message, status: .conflict)
            }
            return .redirect(to: Self.steeringPath, type: .normal)
        }
    }

    // MARK: - Pages

    func overview(_ context: SignedInContext, errors: InvalidInput? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = context.identity
        let list = try await groups.list(by: identity, clientAddress: context.clientAddress)
        let running = policy.allows(identity, .runCommittees)
        var data: [String: Any] = [
            "running": running, "canSeeSteering": policy.allows(identity, .viewSteeringGroup),
            "groups": list.map { group in
                [
                    "id": group.id.uuidString.lowercased(), "name": group.name, "level": group.level == "district" ? "Kreisebene" : "kommunal",
                    "town": group.town as Any, "members": group.members.count, "openTasks": group.tasks.filter { $0.doneOn == nil }.count,
                ] as [String: Any]
            },
        ]
        if running {
            data["towns"] = try await groups.towns(by: identity).map { ["slug": $0.slug, "name": $0.name] }
        }
        if let errors { data.merge(FormErrors.values(errors.errors, labels: Self.labels)) { $1 } }
        return pages.render("committees", data, identity: identity, path: "/gremien", status: status)
    }

    func groupPage(
        _ context: SignedInContext,
        id: UUID,
        errors: InvalidInput? = nil,
        message: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let group = try await groups.group(id, by: context.identity, clientAddress: context.clientAddress)
        let today = Day.today
        var data: [String: Any] = [
            "groupID": group.id.uuidString.lowercased(), "name": group.name, "topic": group.topic,
            "level": group.level == "district" ? "Projektgruppe auf Kreisebene" : "Kommunale Projektgruppe (\(group.town ?? ""))",
            "running": policy.allows(context.identity, .runCommittees), "members": group.members.map(Self.member),
            "meetings": group.meetings.map(Self.meeting), "today": today.iso, "minutesBase": "/gremien/gruppen/\(group.id.uuidString.lowercased())",
            "tasks": group.tasks.map { task in
                [
                    "id": task.id.uuidString.lowercased(), "text": task.text, "owner": task.ownerName, "due": task.dueOn.german,
                    "open": task.doneOn == nil, "overdue": task.doneOn == nil && task.dueOn < today, "done": task.doneOn?.german as Any,
                ] as [String: Any]
            },
        ]
        if let errors { data.merge(FormErrors.values(errors.errors, labels: Self.labels)) { $1 } }
        if let message { data["message"] = message }
        return pages.render("project-group", data, identity: context.identity, path: "/gremien", status: status)
    }

    func steeringPage(
        _ context: SignedInContext,
        errors: InvalidInput? = nil,
        message: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws
        -> Response
    {
        let identity = context.identity
        let group = try await steering.group(by: identity, clientAddress: context.clientAddress)
        let running = policy.allows(identity, .runCommittees)
        var data: [String: Any] = [
            "running": running, "rules": group.rulesOfProcedure.nonEmpty as Any, "adopted": group.rulesAdoptedOn?.german as Any,
            "adoptedISO": group.rulesAdoptedOn?.iso as Any,
            "version": group.version, "members": group.members.map(Self.member), "memberCount": group.members.count,
            "maximum": SteeringGroup.maximumMembers, "full": group.members.count >= SteeringGroup.maximumMembers,
            "meetings": group.meetings.map(Self.meeting), "minutesBase": Self.steeringPath, "withDeadline": true,
            "hasMeetings": !group.meetings.isEmpty,
            "bodyKinds": NewSteeringMember.bodyKinds.map { ["value": $0.0, "label": $0.1] },
            "papers": group.papers.map { paper in
                [
                    "id": paper.id.uuidString.lowercased(), "title": paper.title, "proposal": paper.proposal, "group": paper.group,
                    "status": Self.paperStatus(paper.status), "undecided": ["submitted", "deferred"].contains(paper.status),
                    "forInformation": paper.purpose == "information", "forDecision": paper.purpose == "decision",
                    "purposeLabel": paper.purpose == "information" ? "zur Kenntnisnahme" : "zur Entscheidung",
                    "problemID": paper.problemID?.uuidString.lowercased() as Any,
                    "decisions": paper.decisions.map { decision in
                        [
                            "decision": Self.paperStatus(decision.decision), "voted": decision.decision != "noted",
                            "for": decision.votesFor, "against": decision.votesAgainst,
                            "abstentions": decision.abstentions, "note": decision.note.nonEmpty as Any, "when": GermanFormat.date(decision.meetingAt),
                        ] as [String: Any]
                    },
                ] as [String: Any]
            },
        ]
        if running {
            let districtGroups = try await groups.list(by: identity, clientAddress: context.clientAddress).filter { $0.level == "district" }
            data["districtGroups"] = districtGroups.map { ["id": $0.id.uuidString.lowercased(), "name": $0.name] }
            data["hasDistrictGroups"] = !districtGroups.isEmpty
        }
        if let errors { data.merge(FormErrors.values(errors.errors, labels: Self.labels)) { $1 } }
        if let message { data["message"] = message }
        return pages.render("steering", data, identity: identity, path: "/gremien", status: status)
    }

    static func member(_ member: CommitteeMember) -> [String: Any] {
        [
            "id": member.id.uuidString.lowercased(), "name": member.name, "organisation": member.organisation, "external": member.external,
            "advisory": member.advisory == true,
        ]
    }

    static func meeting(_ meeting: CommitteeMeeting) -> [String: Any] {
        [
            "id": meeting.id.uuidString.lowercased(), "when": GermanFormat.dateTime(meeting.scheduledAt),
            "location": meeting.location.nonEmpty as Any,
            "agenda": meeting.agenda.nonEmpty as Any, "deadline": meeting.agendaDeadline?.german as Any, "minutes": meeting.minutes.nonEmpty as Any,
            "version": meeting.version,
        ]
    }

    static func paperStatus(_ status: String) -> String {
        switch status {
        case "accepted": "angenommen"
        case "rejected": "abgelehnt"
        case "deferred": "vertagt"
        case "noted": "zur Kenntnis genommen"
        default: "eingebracht"
        }
    }
}
