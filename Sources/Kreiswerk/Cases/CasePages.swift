import Foundation
import Hummingbird

/// The case manager's pages: my cases, intake, client search, the client page and the case page.
struct CasePages {
    let work: CaseWork
    let referrals: Referrals
    let pages: Pages

    static let labels: [String: String] = [
        "first_name": "Vorname", "last_name": "Nachname", "date_of_birth": "Geburtsdatum", "gender": "Geschlecht",
        "german_level": "Deutschkenntnisse", "residence_title": "Aufenthaltsstatus", "residence_paragraph": "Paragraph der Aufenthaltserlaubnis",
        "residence_valid_until": "Aufenthaltsstatus gültig bis", "residence_status": "Anmerkung zum Aufenthaltsstatus",
        "arrival_date": "Ankunft in Deutschland", "consent": "Einwilligung", "phase": "Phase", "route": "Weg", "text": "Text",
        "review_on": "Prüftermin",
        "agreed_on": "Vereinbart am", "q": "Suche", "given_on": "Datum der Einwilligung", "recipient": "Empfänger",
        "next_review_on": "Nächster Prüftermin",
        "closure_reason": "Grund des Abschlusses", "case": "Fall", "owner_id": "Zuständig", "outcome": "Ergebnis",
        "service_id": "Beratungsstelle", "reason": "Anlass", "consent_given_on": "Einwilligung vom", "note": "Anmerkung", "kind": "Antwort",
        "participants": "Teilnehmende", "referral_reason": "Anlass der Verweisung",
        "referral_consent": "Einwilligung in die Übergabe", "referral_consent_date": "Einwilligung vom", "invitees": "Namentlich eingeladen",
        "conference": "Fallkonferenz", "scheduled_at": "Termin", "title": "Titel", "summary": "Zusammenfassung",
        "area": "Bereich",
        "scope": "Umfang", "expires_on": "Gültig bis", "given_how": "Wie gegeben", "interpreter_language": "Sprache der Dolmetschung",
        "consent_given_how": "Wie gegeben", "consent_interpreter_language": "Sprache der Dolmetschung", "consent_expires_on": "Gültig bis",
    ]

    static func caseRow(_ file: CaseFile) -> [String: Any] {
        let today = Day.today
        return [
            "id": file.id.uuidString.lowercased(), "number": file.caseNumber, "client": file.clientName, "phase": file.phase.label,
            "owner": file.ownerName,
            "nextReview": file.nextReviewOn?.german ?? "–", "overdue": (file.nextReviewOn.map { $0 <= today } ?? false) || file.goalsDue > 0,
            "goalsDue": file.goalsDue, "closed": file.closedOn != nil,
        ]
    }

    static func errorValues(_ error: InvalidInput) -> [String: Any] { FormErrors.values(error.errors, labels: labels) }

    // MARK: - Routes

    func register(on routes: GuardedRouter) {
        StandInPages(standIns: StandIns(work: work), pages: pages).register(on: routes)
        routes.get("/faelle", .workCases, use: myCases)
        routes.get("/klienten", .workCases, use: clientSearch)
        routes.get("/aufnahme", .workCases) { _, context in try await intakePage(context, form: nil) }
        routes.post("/aufnahme", .workCases, use: intake)
        routes.get("/klienten/{id}", .workCases, use: client)
        routes.post("/klienten/{id}", .workCases, use: updateClient)
        routes.post("/klienten/{id}/einwilligungen", .workCases, use: recordConsent)
        routes.get("/klienten/{id}/einwilligungsformular", .workCases, use: consentForm)
        routes.get("/klienten/{id}/einwilligungen/{consent}/widerruf", .workCases) { _, context in
            try await withdrawalPage(context, client: try context.id(), consent: try context.id("consent"))
        }
        routes.post("/klienten/{id}/einwilligungen/{consent}/widerruf", .workCases, use: withdrawConsent)
        routes.post("/klienten/{id}/faelle", .workCases, use: openCase)
        routes.get("/faelle/{id}", .workCases, use: caseFile)
        caseForm("phase", on: routes, changePhase)
        caseForm("uebergabe", done: "uebergabe", on: routes, handOver)
        caseForm("vermerke", done: "vermerk", on: routes) { id, form, context in
            try await work.addNote(case: id, text: form.raw("text"), by: context.identity, clientAddress: context.clientAddress)
        }
        caseForm("ziele", done: "ziel", on: routes, addGoal)
        caseForm("ziele/{goal}/verschieben", done: "verschoben", on: routes, postponeGoal)
        caseForm("ziele/{goal}/pruefung", done: "pruefung", on: routes, reviewGoal)
    }

    // MARK: - Handlers

    /// `GET /faelle`: the identity's open cases (`?alle`: the whole tenant's, for team leads) and the stand-ins'.
    @Sendable func myCases(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let wholeTenant = request.uri.queryParameters["alle"] != nil
        let (cases, standingIn) = try await work.workQueue(by: context.identity, wholeTenant: wholeTenant, clientAddress: context.clientAddress)
        let due = cases.filter { Self.caseRow($0)["overdue"] as? Bool == true }.count
        return pages.render(
            "cases",
            [
                "cases": cases.map(Self.caseRow), "count": GermanFormat.count(cases.count, "offener Fall", "offene Fälle"),
                "due": due > 0 ? due : nil, "wholeTenant": wholeTenant,
                "canOversee": work.policy.allows(context.identity, .overseeCaseload),
                "standingIn": standingIn.map(StandInPages.section),
            ],
            identity: context.identity,
            path: "/faelle"
        )
    }

    /// `GET /faelle/{id}`, with the message of what was just done.
    @Sendable func caseFile(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let query = request.uri.queryParameters
        return try await casePage(
            context,
            id: try context.id(),
            notice: query["gespeichert"] != nil ? "Gespeichert." : nil,
            done: query["erledigt"].map(String.init),
            referral: query["verweisung"].flatMap { UUID(uuidString: String($0)) }
        )
    }

    // MARK: - The case page's forms

    @Sendable func changePhase(_ id: UUID, _ form: Form, _ context: SignedInContext) async throws {
        let change = CaseWork.PhaseChange(
            phase: try Phase(rawValue: form["phase"]) ?? { throw InvalidInput(field: "phase", "Bitte die nächste Phase wählen.") }(),
            route: CaseRoute(rawValue: form["route"]),
            closureReason: form["closure_reason"],
            nextReviewOn: try Day.parse(form["next_review_on"], field: "next_review_on", label: "Nächster Prüftermin")
        )
        _ = try await work.change(
            case: id,
            version: Int(form["version"]) ?? -1,
            to: change,
            by: context.identity,
            clientAddress: context.clientAddress
        )
    }

    @Sendable func handOver(_ id: UUID, _ form: Form, _ context: SignedInContext) async throws {
        guard let owner = UUID(uuidString: form["owner_id"]) else {
            throw InvalidInput(field: "owner_id", "Bitte wählen, wer den Fall übernimmt.")
        }
        _ = try await work.handOver(
            case: id,
            version: Int(form["version"]) ?? -1,
            to: owner,
            by: context.identity,
            clientAddress: context.clientAddress
        )
    }

    @Sendable func addGoal(_ id: UUID, _ form: Form, _ context: SignedInContext) async throws {
        let agreed = try Day.parse(form["agreed_on"], field: "agreed_on", label: "Vereinbart am") ?? .today
        guard let review = try Day.parse(form["review_on"], field: "review_on", label: "Prüftermin") else {
            throw InvalidInput(field: "review_on", "Bitte einen Prüftermin angeben.")
        }
        guard let area = GoalArea(rawValue: form["area"]) else { throw InvalidInput(field: "area", "Bitte einen Bereich wählen.") }
        _ = try await work.addGoal(
            case: id,
            .init(area: area, text: form["text"], agreedOn: agreed, reviewOn: review),
            by: context.identity,
            clientAddress: context.clientAddress
        )
    }

    @Sendable func postponeGoal(_ id: UUID, _ form: Form, _ context: SignedInContext) async throws {
        guard let day = try Day.parse(form["review_on"], field: "review_on", label: "Neuer Prüftermin") else {
            throw InvalidInput(field: "review_on", "Bitte den neuen Prüftermin angeben.")
        }
        _ = try await work.postponeGoal(
            try context.id("goal"),
            case: id,
            version: Int(form["version"]) ?? -1,
            to: day,
            reason: form["reason"],
            by: context.identity,
            clientAddress: context.clientAddress
        )
    }

    @Sendable func reviewGoal(_ id: UUID, _ form: Form, _ context: SignedInContext) async throws {
        guard let outcome = GoalOutcome(rawValue: form["outcome"]) else { throw InvalidInput(field: "outcome", "Bitte das Ergebnis wählen.") }
        _ = try await work.reviewGoal(
            try context.id("goal"),
            case: id,
            version: Int(form["version"]) ?? -1,
            outcome: outcome,
            note: form["note"].isEmpty ? nil : form["note"],
            by: context.identity,
            clientAddress: context.clientAddress
        )
    }

    /// `POST /faelle/{id}/PART`: a form on the case page.
    /// `done` names the action for the message the case page shows after it (`CasePages.doneMessage`).
    func caseForm(
        _ part: String,
        done: String = "phase",
        on routes: GuardedRouter,
        _ apply: @escaping @Sendable (UUID, Form, SignedInContext) async throws -> Void
    ) {
        routes.pageForm(
            "/faelle",
            part,
            .workCases,
            done: "?erledigt=\(done)",
            page: { context, id, errors, message, status in
                let action = CaseAction(part: part, goal: try? context.id("goal"))
                return try await casePage(context, id: id, errors: errors, message: message, action: action, status: status)
            },
            apply
        )
    }

    /// What the case page says after an action: what was done, in the terms of the work.
    static func doneMessage(_ done: String, _ page: CaseWork.CasePage, referral: UUID?) -> String? {
        let file = page.view.file
        switch done {
        case "phase": return "Phase gewechselt: Der Fall ist jetzt in der Phase „\(file.phase.label)“."
        case "uebergabe": return "Fall an \(file.ownerName) übergeben; \(file.ownerName) wird benachrichtigt."
        case "vermerk": return "Vermerk gespeichert."
        case "ziel": return "Ziel hinzugefügt."
        case "pruefung": return "Prüfung des Ziels gespeichert."
        case "verschoben": return "Prüftermin des Ziels verschoben."
        case "verweisung":
            guard let sent = page.referrals.first(where: { $0.id == referral }) else { return "Verweisung gesendet." }
            return "Verweisung an \(sent.serviceName) (\(sent.receiverName)) gesendet."
        default: return nil
        }
    }

    func casePage(
        _ context: SignedInContext,
        id: UUID,
        errors: InvalidInput? = nil,
        message: String? = nil,
        notice: String? = nil,
        done: String? = nil,
        referral: UUID? = nil,
        referralForm: Form? = nil,
        action: CaseAction? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let page = try await work.casePage(id, by: context.identity, clientAddress: context.clientAddress)
        // The form the answer came back to: named by the case page's own forms, the referral's by its form, otherwise
        // (an error from planning a conference) the conference form.
        let action = errors == nil && message == nil ? nil : action ?? (referralForm != nil ? .referral : errors != nil ? .conference : nil)
        let notice = notice ?? done.flatMap { Self.doneMessage($0, page, referral: referral) }
        let view = page.view
        let file = view.file
        var data: [String: Any] = [
            "id": file.id.uuidString.lowercased(), "caseID": file.id.uuidString.lowercased(), "number": file.caseNumber, "version": file.version,
            "clientID": file.clientID.uuidString.lowercased(),
            "clientName": file.clientName, "birth": view.client.data.dateOfBirth.german, "phase": file.phase.label, "channel": file.channel.label,
            "route": file.route?.label ?? "noch nicht gewählt", "owner": file.ownerName, "opened": file.openedOn.german,
            "nextReview": file.nextReviewOn?.german ?? "–", "closed": file.closedOn != nil, "closedOn": file.closedOn?.german as Any,
            "closureReason": file.closureReason?.nonEmpty as Any, "reason": file.reason?.nonEmpty as Any,
            "hasConsent": view.client.hasCaseManagementConsent,
            "today": Day.today.iso,
            "goals": view.goals.map { goal -> [String: Any] in
                [
                    "id": goal.id.uuidString.lowercased(), "area": goal.area.label, "text": goal.text, "agreed": goal.agreedOn.german,
                    "review": goal.reviewOn.german,
                    "due": goal.outcome == nil && goal.reviewOn <= .today, "open": goal.outcome == nil, "outcome": goal.outcome?.label as Any,
                    "note": goal.outcomeNote?.nonEmpty as Any, "version": goal.version,
                ].merging(Self.goalFormValues(goal, action: action, form: context.form, errors: errors)) { $1 }
            },
            "timeline": view.timeline.map { event -> [String: Any] in
                [
                    "time": GermanFormat.dateTime(event.occurredAt), "text": event.text,
                    "actor": (event.actorName ?? "System") + (event.standInFor.map { " in Vertretung für \($0)" } ?? ""),
                    "isNote": event.kind == "note",
                ]
            },
        ]
        let due = view.goals.filter { $0.outcome == nil && $0.reviewOn <= .today }.count
        data["dueGoals"] = due > 0 ? GermanFormat.count(due, "Ziel ist", "Ziele sind") : nil
        data["canHandOver"] = !page.handOverTo.isEmpty
        data.merge(Self.caseFormValues(action, form: context.form, file: file, page: page)) { $1 }
        let chosenService = referralForm?["service_id"]
        data["services"] = page.services.map {
            [
                "id": $0.id.uuidString.lowercased(), "label": "\($0.name) (\($0.carrierName))",
                "selected": $0.id.uuidString.lowercased() == chosenService,
            ]
        }
        if let referralForm {
            data["referralReason"] = referralForm.raw("reason")
            data["referralConsent"] = referralForm["consent"] == "1"
            data["referralConsentDate"] = referralForm["consent_given_on"]
        }
        data["referralConsentManner"] = Self.consentMannerValues(
            referralForm,
            name: "consent_",
            id: "referral_consent_",
            errors: errors?.errors ?? [:]
        )
        let conferenceErrors =
            action == .conference ? Dictionary(uniqueKeysWithValues: (errors?.errors ?? [:]).map { ("conference_" + $0.key, $0.value) }) : [:]
        data["conferenceConsentManner"] = Self.consentMannerValues(
            action == .conference ? context.form : nil,
            name: "consent_",
            id: "conference_consent_",
            errors: conferenceErrors
        )
        data["referrals"] = page.referrals.map(ReferralPages.values)
        if let errors { data.merge(Self.caseErrorValues(errors, action: action)) { $1 } }
        if let message { data["message"] = message }
        if let notice { data["notice"] = notice }
        return pages.render("case", data, identity: context.identity, path: "/faelle", status: status)
    }
}
