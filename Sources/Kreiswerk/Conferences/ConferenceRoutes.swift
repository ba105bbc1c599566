import Foundation
import Hummingbird

/// Case conferences: `/api/v1/…conferences…` and the pages `/konferenzen`, `/konferenzen/{id}`, the planning form on the case page.
/// Changes are guarded by `attendConferences`: the service lets the organising town's case workers, the coordinators who
/// lead a district conference and (for the minutes) the coordinator who took on the moderation make them, 404 for anyone else.
struct ConferenceRoutes {
    let conferences: Conferences
    let casePages: CasePages
    let pages: Pages
    let policy: Policy

    struct Minutes: Decodable, Sendable { var minutes: String }
    struct Schedule: Decodable, Sendable { var scheduledAt: Date }
    struct Cancellation: Decodable, Sendable { var reason: String }
    struct NewItem: Decodable {
        var text: String
        var owner: String
        var dueOn: Day
    }

    func register(on routes: GuardedRouter) {
        routes.on(.post, "/api/v1/cases/{id}/conferences", .workCases) { request, context in
            let body = try await request.json(NewConference.self, context: context, snakeCase: true)
            let conference = try await conferences.plan(
                case: try context.id(),
                body,
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return JSONResponse(conference, status: .created, headers: [.location: "/api/v1/conferences/\(conference.id)"], snakeCase: true)
        }
        routes.get("/api/v1/conferences", .attendConferences) { _, context in
            JSONResponse(try await conferences.list(by: context.identity, clientAddress: context.clientAddress), snakeCase: true)
        }
        routes.get("/api/v1/conferences/{id}", .attendConferences) { _, context in
            let conference = try await conferences.conference(
                try context.id(),
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return JSONResponse(conference, headers: [.eTag: "\"\(conference.version)\""], snakeCase: true)
        }
        versionedChange(.put, "minutes", Minutes.self, on: routes) { id, version, body, context in
            try await conferences.recordMinutes(
                id,
                version: version,
                minutes: body.minutes,
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        versionedChange(.put, "schedule", Schedule.self, on: routes) { id, version, body, context in
            try await conferences.reschedule(id, version: version, to: body.scheduledAt, by: context.identity, clientAddress: context.clientAddress)
        }
        versionedChange(.post, "cancellation", Cancellation.self, on: routes) { id, version, body, context in
            try await conferences.cancel(id, version: version, reason: body.reason, by: context.identity, clientAddress: context.clientAddress)
        }
        versionedChange(.put, "plan", LedPlan.self, permission: .coordinateDistrict, on: routes) { id, version, body, context in
            try await conferences.planLed(id, version: version, body, by: context.identity, clientAddress: context.clientAddress)
        }
        routes.on(.post, "/api/v1/conferences/{id}/moderation", .coordinateDistrict) { _, context in
            let conference = try await conferences.takeOnModeration(try context.id(), by: context.identity, clientAddress: context.clientAddress)
            return JSONResponse(conference, headers: [.eTag: "\"\(conference.version)\""], snakeCase: true)
        }
        routes.on(.post, "/api/v1/conferences/{id}/participants", .attendConferences) { request, context in
            let body = try await request.json(MoreParticipants.self, context: context, snakeCase: true)
            let conference = try await conferences.invite(
                try context.id(),
                body,
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return JSONResponse(conference, headers: [.eTag: "\"\(conference.version)\""], snakeCase: true)
        }
        routes.on(.post, "/api/v1/conferences/{id}/action-items", .attendConferences) { request, context in
            let body = try await request.json(NewItem.self, context: context, snakeCase: true)
            return JSONResponse(
                try await conferences.addActionItem(
                    try context.id(),
                    text: body.text,
                    owner: body.owner,
                    dueOn: body.dueOn,
                    by: context.identity,
                    clientAddress: context.clientAddress
                ),
                status: .created,
                snakeCase: true
            )
        }
        routes.on(.post, "/api/v1/conferences/{id}/action-items/{item}/done", .attendConferences) { _, context -> Response in
            try await conferences.completeActionItem(
                try context.id("item"),
                of: try context.id(),
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return Response(status: .noContent)
        }

        // MARK: Pages

        routes.get("/konferenzen", .attendConferences) { _, context in
            let list = try await conferences.list(by: context.identity, clientAddress: context.clientAddress)
            return pages.render(
                "conferences",
                ["conferences": list.map(Self.values), "count": list.count],
                identity: context.identity,
                path: "/konferenzen"
            )
        }
        routes.get("/konferenzen/{id}", .attendConferences) { request, context in
            try await conferencePage(context, id: try context.id(), done: request.uri.queryParameters["erledigt"].map(String.init))
        }
        routes.post("/faelle/{id}/konferenzen", .workCases) { _, context -> Response in
            let id = try context.id()
            let form = context.form
            do {
                guard let scheduled = try Day.enteredInstant(form["scheduled_at"], field: "scheduled_at") else {
                    throw InvalidInput(field: "scheduled_at", "Bitte Datum und Uhrzeit der Fallkonferenz angeben.")
                }
                // The client's consent to sharing the summary, never assumed: ticked, and said how it was given.
                let (consent, wrong) = CasePages.tickedConsent(form)
                let new = NewConference(
                    kind: form["kind"],
                    title: form["title"],
                    scheduledAt: scheduled,
                    summary: form.raw("summary"),
                    agenda: form.raw("agenda"),
                    participants: form.all("participants"),
                    externalParticipants: form["external"].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
                    invitees: form["invitees"].split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init),
                    consentGivenOn: consent?.givenOn,
                    requestModerator: form["moderator"] == "1",
                    consentGivenHow: consent?.how,
                    consentInterpreterLanguage: consent?.interpreterLanguage
                )
                let conference = try await conferences.plan(
                    case: id,
                    new,
                    alsoWrong: wrong,
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
                return .redirect(to: "/konferenzen/\(conference.id.uuidString.lowercased())", type: .normal)
            } catch let error as InvalidInput {
                return try await casePages.casePage(context, id: id, errors: error, status: .unprocessableContent)
            }
        }
        formAction("protokoll", on: routes) { id, form, context in
            _ = try await conferences.recordMinutes(
                id,
                version: Int(form["version"]) ?? -1,
                minutes: form.raw("minutes"),
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        formAction("termin", on: routes) { id, form, context in
            guard let scheduled = try Day.enteredInstant(form["scheduled_at"], field: "scheduled_at") else {
                throw InvalidInput(field: "scheduled_at", "Bitte Datum und Uhrzeit angeben, auf die die Fallkonferenz verlegt wird.")
            }
            _ = try await conferences.reschedule(
                id,
                version: Int(form["version"]) ?? -1,
                to: scheduled,
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        formAction("absage", on: routes) { id, form, context in
            _ = try await conferences.cancel(
                id,
                version: Int(form["version"]) ?? -1,
                reason: form.raw("reason"),
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        formAction("teilnehmende", on: routes) { id, form, context in
            let (consent, wrong) = CasePages.tickedConsent(form)
            let more = MoreParticipants(
                participants: form.all("participants"),
                externalParticipants: form["external"].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
                invitees: form["invitees"].split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init),
                consentGivenOn: consent?.givenOn,
                consentGivenHow: consent?.how,
                consentInterpreterLanguage: consent?.interpreterLanguage
            )
            _ = try await conferences.invite(id, more, alsoWrong: wrong, by: context.identity, clientAddress: context.clientAddress)
        }
        formAction("planung", permission: .coordinateDistrict, on: routes) { id, form, context in
            guard let scheduled = try Day.enteredInstant(form["scheduled_at"], field: "scheduled_at") else {
                throw InvalidInput(field: "scheduled_at", "Bitte Datum und Uhrzeit der Fallkonferenz angeben.")
            }
            _ = try await conferences.planLed(
                id,
                version: Int(form["version"]) ?? -1,
                LedPlan(
                    scheduledAt: scheduled,
                    title: form["title"].isEmpty ? nil : form["title"],
                    agenda: form.raw("agenda").isEmpty ? nil : form.raw("agenda"),
                    participants: form.all("participants"),
                    externalParticipants: form["external"].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
                    invitees: form["invitees"].split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
                ),
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        formAction("moderation", permission: .coordinateDistrict, on: routes) { id, _, context in
            _ = try await conferences.takeOnModeration(id, by: context.identity, clientAddress: context.clientAddress)
        }
        formAction("aufgaben", on: routes) { id, form, context in
            guard let due = try Day.parse(form["due_on"], field: "due_on", label: "Fällig am") else {
                throw InvalidInput(field: "due_on", "Bitte ein Fälligkeitsdatum angeben.")
            }
            _ = try await conferences.addActionItem(
                id,
                text: form["text"],
                owner: form["owner"],
                dueOn: due,
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        routes.post("/konferenzen/{id}/aufgaben/{item}/erledigt", .attendConferences) { _, context -> Response in
            let id = try context.id()
            try await conferences.completeActionItem(
                try context.id("item"),
                of: id,
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return .redirect(to: "/konferenzen/\(id.uuidString.lowercased())?erledigt=aufgabe-erledigt", type: .normal)
        }
    }

    /// What the conference page says after an action: what was done.
    static func doneMessage(_ done: String, _ conference: CaseConference) -> String? {
        switch done {
        case "protokoll": "Protokoll gespeichert."
        case "termin": "Termin verschoben auf \(GermanFormat.dateTime(conference.scheduledAt))."
        case "absage": "Fallkonferenz abgesagt; die namentlich Eingeladenen werden benachrichtigt."
        case "teilnehmende": "Weitere Teilnehmende eingeladen."
        case "aufgaben": "Aufgabe hinzugefügt."
        case "aufgabe-erledigt": "Aufgabe als erledigt vermerkt."
        case "planung": "Fallkonferenz geplant; die Eingeladenen und die anfragende Fallverantwortung werden benachrichtigt."
        case "moderation": "Sie moderieren diese Fallkonferenz; die Stadt wird benachrichtigt. Das Protokoll schreiben Sie hier."
        default: nil
        }
    }

    /// `/api/v1/conferences/{id}/PART`: a change by the organiser at the version of the If-Match header (428 without one);
    /// answers the conference with its new ETag.
    func versionedChange<Body: Decodable & Sendable>(
        _ method: HTTPRequest.Method,
        _ part: String,
        _ body: Body.Type,
        permission: Permission = .attendConferences,
        on routes: GuardedRouter,
        _ apply: @escaping @Sendable (UUID, Int, Body, SignedInContext) async throws -> CaseConference
    ) {
        routes.on(method, "/api/v1/conferences/{id}/\(part)", permission) { request, context in
            let id = try context.id()
            let version = try request.ifMatchVersion(of: "/api/v1/conferences/\(id)")
            let conference = try await apply(id, version, try await request.json(Body.self, context: context, snakeCase: true), context)
            return JSONResponse(conference, headers: [.eTag: "\"\(conference.version)\""], snakeCase: true)
        }
    }

    /// `POST /konferenzen/{id}/PART`: a form on the conference page.
    func formAction(
        _ part: String,
        permission: Permission = .attendConferences,
        on routes: GuardedRouter,
        _ apply: @escaping @Sendable (UUID, Form, SignedInContext) async throws -> Void
    ) {
        routes.pageForm(
            "/konferenzen",
            part,
            permission,
            done: "?erledigt=\(part)",
            page: { try await conferencePage($0, id: $1, errors: $2, message: $3, status: $4) },
            apply
        )
    }

    static func values(_ conference: CaseConference) -> [String: Any] {
        [
            "id": conference.id.uuidString.lowercased(), "title": conference.title, "when": GermanFormat.dateTime(conference.scheduledAt),
            "kind": conference.kind == "district" ? "Kreisebene" : "kommunal", "organiser": conference.organiserName,
            "summary": conference.summary, "agenda": conference.agenda.nonEmpty as Any, "minutes": conference.minutes.nonEmpty as Any,
            "participants": conference.participants.joined(separator: ", ").nonEmpty as Any,
            "version": conference.version, "caseID": conference.caseID?.uuidString.lowercased() as Any,
            "cancelled": conference.cancelledAt.map(GermanFormat.dateTime) as Any, "cancelReason": conference.cancelReason as Any,
            "led": conference.lead != nil, "requested": conference.lead != nil && conference.plannedAt == nil,
            "initiative": conference.initiative.map {
                $0 == "coordination" ? "Von der Koordinierungsstelle einberufen (Fall von der Stadt geteilt)" : "Auf Bitte der Stadt"
            } as Any,
            "plannedBy": conference.plannedByName as Any, "moderatorName": conference.moderatorName as Any,
            "items": conference.actionItems.map { item -> [String: Any] in
                [
                    "id": item.id.uuidString.lowercased(), "text": item.text, "owner": item.ownerName, "due": item.dueOn.german,
                    "done": item.doneOn?.german as Any,
                    "open": item.doneOn == nil, "overdue": item.doneOn == nil && item.dueOn < .today,
                ]
            },
        ]
    }

    func conferencePage(
        _ context: SignedInContext,
        id: UUID,
        errors: InvalidInput? = nil,
        message: String? = nil,
        done: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let (conference, invitable) = try await conferences.page(id, by: context.identity, clientAddress: context.clientAddress)
        var data = Self.values(conference)
        data["notice"] = done.flatMap { Self.doneMessage($0, conference) }
        let runs = ["organiser", "lead"].contains(conference.part)
        let open = conference.cancelledAt == nil
        data["isOrganiser"] = conference.part == "organiser"
        data["consentManner"] = CasePages.consentMannerValues(
            errors == nil ? nil : context.form,
            name: "consent_",
            id: "consent_",
            errors: errors?.errors ?? [:]
        )
        data["isLead"] = conference.part == "lead"
        data["runs"] = runs
        data["canChange"] = runs && open && !(conference.lead != nil && conference.plannedAt == nil)
        data["canCancel"] = runs && open
        data["canPlan"] = conference.part == "lead" && open && conference.plannedAt == nil
        data["writesMinutes"] = (runs || conference.part == "moderator") && open && conference.plannedAt != nil
        // A coordinator asked to moderate a municipal conference that nobody has taken on yet.
        data["canTakeOn"] =
            conference.kind == "municipal" && conference.moderator == context.identity.tenant.slug && conference.moderatorName == nil && open
            && context.identity.has(.districtCoordinator)
        data["whenInput"] = GermanFormat.formatter("yyyy-MM-dd'T'HH:mm").string(from: conference.scheduledAt)
        if runs { data["invitableTenants"] = invitable.map { ["slug": $0.slug, "name": $0.name] } }
        data["conferenceID"] = conference.id.uuidString.lowercased()
        data["today"] = Day.today.iso
        if let errors {
            data.merge(CasePages.errorValues(errors)) { $1 }
            let fields = Set(errors.errors.keys)
            data["rescheduleOpen"] = fields.contains("scheduled_at")
            data["cancelOpen"] = fields.contains("reason")
            data["inviteOpen"] = !fields.isDisjoint(with: ["participants", "invitees", "consent"])
        }
        // What the organiser typed stays in the form when the save is refused.
        if errors != nil || message != nil, !context.form["minutes"].isEmpty, context.form.raw("minutes") != conference.minutes {
            data["minutes"] = context.form.raw("minutes")
            data["storedMinutes"] = conference.minutes.isEmpty ? "(noch leer)" : conference.minutes
        }
        if let message { data["message"] = message }
        return pages.render("conference", data, identity: context.identity, path: "/konferenzen", status: status)
    }
}
