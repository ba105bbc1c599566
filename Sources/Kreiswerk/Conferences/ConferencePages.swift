import Foundation
import Hummingbird

/// Case conferences in the browser: `/konferenzen`, `/konferenzen/{id}` with its forms, and the planning form on the case page.
/// Changes are guarded by `attendConferences`; the service decides who may make each (see `ConferenceAPI`).
struct ConferencePages {
    let conferences: Conferences
    let casePages: CasePages
    let pages: Pages

    func register(on routes: GuardedRouter) {
        routes.get("/konferenzen", .attendConferences, use: list)
        routes.get("/konferenzen/{id}", .attendConferences) { request, context in
            try await conferencePage(context, id: try context.id(), done: request.uri.queryParameters["erledigt"].map(String.init))
        }
        routes.post("/faelle/{id}/konferenzen", .workCases, use: plan)
        formAction("protokoll", on: routes) { id, form, context in
            _ = try await conferences.recordMinutes(
                id,
                version: Int(form["version"]) ?? -1,
                minutes: form.raw("minutes"),
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        formAction("termin", on: routes, reschedule)
        formAction("absage", on: routes) { id, form, context in
            _ = try await conferences.cancel(
                id,
                version: Int(form["version"]) ?? -1,
                reason: form.raw("reason"),
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        formAction("teilnehmende", on: routes, invite)
        formAction("planung", permission: .coordinateDistrict, on: routes, planLed)
        formAction("moderation", permission: .coordinateDistrict, on: routes) { id, _, context in
            _ = try await conferences.takeOnModeration(id, by: context.identity, clientAddress: context.clientAddress)
        }
        formAction("aufgaben", on: routes, addActionItem)
        routes.post("/konferenzen/{id}/aufgaben/{item}/erledigt", .attendConferences, use: completeActionItem)
    }

    // MARK: - Handlers

    /// `GET /konferenzen`: the conferences the identity takes part in.
    @Sendable func list(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let list = try await conferences.list(by: context.identity, clientAddress: context.clientAddress)
        return pages.render(
            "conferences",
            ["conferences": list.map(Self.values), "count": list.count],
            identity: context.identity,
            path: "/konferenzen"
        )
    }

    /// `POST /faelle/{id}/konferenzen`: the case page's planning form; a refusal comes back to the case page with what was typed.
    @Sendable func plan(_ request: Request, _ context: SignedInContext) async throws -> Response {
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
                externalParticipants: Self.names(form["external"]),
                invitees: Self.addresses(form["invitees"]),
                consentGivenOn: consent?.givenOn,
                requestModerator: form["moderator"] == "1",
                consentGivenHow: consent?.how,
                consentInterpreterLanguage: consent?.interpreterLanguage
            )
            let conference = try await conferences.plan(case: id, new, alsoWrong: wrong, by: context.identity, clientAddress: context.clientAddress)
            return .redirect(to: "/konferenzen/\(conference.id.uuidString.lowercased())", type: .normal)
        } catch let error as InvalidInput {
            return try await casePages.casePage(context, id: id, errors: error, status: .unprocessableContent)
        }
    }

    @Sendable func reschedule(_ id: UUID, _ form: Form, _ context: SignedInContext) async throws {
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

    @Sendable func invite(_ id: UUID, _ form: Form, _ context: SignedInContext) async throws {
        let (consent, wrong) = CasePages.tickedConsent(form)
        let more = MoreParticipants(
            participants: form.all("participants"),
            externalParticipants: Self.names(form["external"]),
            invitees: Self.addresses(form["invitees"]),
            consentGivenOn: consent?.givenOn,
            consentGivenHow: consent?.how,
            consentInterpreterLanguage: consent?.interpreterLanguage
        )
        _ = try await conferences.invite(id, more, alsoWrong: wrong, by: context.identity, clientAddress: context.clientAddress)
    }

    /// A district conference the coordinators lead: planned by them after the town asked.
    @Sendable func planLed(_ id: UUID, _ form: Form, _ context: SignedInContext) async throws {
        guard let scheduled = try Day.enteredInstant(form["scheduled_at"], field: "scheduled_at") else {
            throw InvalidInput(field: "scheduled_at", "Bitte Datum und Uhrzeit der Fallkonferenz angeben.")
        }
        let plan = LedPlan(
            scheduledAt: scheduled,
            title: form["title"].isEmpty ? nil : form["title"],
            agenda: form.raw("agenda").isEmpty ? nil : form.raw("agenda"),
            participants: form.all("participants"),
            externalParticipants: Self.names(form["external"]),
            invitees: Self.addresses(form["invitees"])
        )
        _ = try await conferences.planLed(id, version: Int(form["version"]) ?? -1, plan, by: context.identity, clientAddress: context.clientAddress)
    }

    @Sendable func addActionItem(_ id: UUID, _ form: Form, _ context: SignedInContext) async throws {
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

    /// `POST /konferenzen/{id}/aufgaben/{item}/erledigt`.
    @Sendable func completeActionItem(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let id = try context.id()
        try await conferences.completeActionItem(try context.id("item"), of: id, by: context.identity, clientAddress: context.clientAddress)
        return .redirect(to: "/konferenzen/\(id.uuidString.lowercased())?erledigt=aufgabe-erledigt", type: .normal)
    }

    /// Names typed into one field, separated by commas.
    static func names(_ field: String) -> [String] { field.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

    /// E-mail addresses typed into one field, separated by commas or spaces.
    static func addresses(_ field: String) -> [String] { field.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init) }

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
