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

    // MARK: - Reading forms

    /// The client fields of a form, as `ClientData`; dates that are not dates are reported by field.
    static func clientData(_ form: Form, fields: [ClientField]) throws(InvalidInput) -> ClientData {
        var errors: [String: String] = [:]
        func day(_ name: String) -> Day? {
            do { return try Day.parse(form[name], field: name, label: labels[name] ?? name) } catch {
                errors.merge(error.errors) { first, _ in first }
                return nil
            }
        }
        let birth = day("date_of_birth")
        if form["date_of_birth"].isEmpty { errors["date_of_birth"] = "Bitte das Geburtsdatum angeben." }
        var data = ClientData(firstName: form["first_name"], lastName: form["last_name"], dateOfBirth: birth ?? Day("1900-01-01")!)
        data.gender = form["gender"]
        data.placeOfResidence = form["place_of_residence"]
        data.socialArea = form["social_area"]
        data.residenceStatus = form["residence_status"]
        data.readResidence(from: form, into: &errors)
        data.countryOfOrigin = form["country_of_origin"]
        data.languages = form["languages"].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        data.germanLevel = form["german_level"]
        data.healthSituation = form["health_situation"]
        data.household = form["household"]
        data.youthOfficeMeasures = form["youth_office_measures"]
        data.jobcenterMeasures = form["jobcenter_measures"]
        data.clubMemberships = form["club_memberships"]
        data.arrivalDate = day("arrival_date")
        data.singleParent = form["single_parent"] == "1"
        data.unaccompaniedMinor = form["unaccompanied_minor"] == "1"
        data.familyWithBarriers = form["family_with_barriers"] == "1"
        var extra: [String: ExtraValue] = [:]
        for field in fields {
            let values = form.all("extra.\(field.key)").filter { !$0.isEmpty }
            if field.kind == .multiChoice {
                if !values.isEmpty { extra[field.key] = .list(values) }
            } else if let value = values.first {
                extra[field.key] = .text(value)
            }
        }
        data.extra = extra
        // Every problem at once: the dates above and the rules of the record itself.
        do { _ = try data.validated() } catch { errors.merge(error.errors) { first, _ in first } }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        return data
    }

    /// What the client form shows: the data (or what was typed), choices, the tenant's own fields.
    static func clientFormValues(_ data: ClientData?, form: Form?, fields: [ClientField]) -> [String: Any] {
        func value(_ name: String, _ stored: String?) -> String { form.map { $0[name] } ?? stored ?? "" }
        func flag(_ name: String, _ stored: Bool?) -> Bool { form.map { $0[name] == "1" } ?? stored ?? false }
        let gender = value("gender", data?.gender)
        let level = value("german_level", data?.germanLevel)
        let values: [String: Any] = [
            "first_name": value("first_name", data?.firstName), "last_name": value("last_name", data?.lastName),
            "date_of_birth": value("date_of_birth", data?.dateOfBirth.iso), "place_of_residence": value("place_of_residence", data?.placeOfResidence),
            "social_area": value("social_area", data?.socialArea), "residence_status": value("residence_status", data?.residenceStatus),
            "country_of_origin": value("country_of_origin", data?.countryOfOrigin),
            "languages": value("languages", data?.languages?.joined(separator: ", ")),
            "health_situation": value("health_situation", data?.healthSituation),
            "household": value("household", data?.household), "youth_office_measures": value("youth_office_measures", data?.youthOfficeMeasures),
            "jobcenter_measures": value("jobcenter_measures", data?.jobcenterMeasures),
            "club_memberships": value("club_memberships", data?.clubMemberships),
            "arrival_date": value("arrival_date", data?.arrivalDate?.iso),
            "single_parent": flag("single_parent", data?.singleParent), "unaccompanied_minor": flag("unaccompanied_minor", data?.unaccompaniedMinor),
            "family_with_barriers": flag("family_with_barriers", data?.familyWithBarriers),
            "genders": [("", "– bitte wählen –")].map { ["value": $0.0, "label": $0.1, "selected": gender.isEmpty] }
                + ["female", "male", "diverse", "unspecified"].map { ["value": $0, "label": ClientData.genders[$0]!, "selected": $0 == gender] },
            "levels": [["value": "", "label": "– nicht erfasst –", "selected": level.isEmpty]]
                + ClientData.germanLevels.map { ["value": $0, "label": $0 == "none" ? "keine" : $0, "selected": $0 == level] },
            "extraFields": fields.map { field -> [String: Any] in
                let stored = data?.extra?[field.key]
                let current: [String] =
                    form.map { $0.all("extra.\(field.key)") }
                    ?? {
                        switch stored {
                        case .list(let values): values
                        case .some(let value): [value.display]
                        case nil: []
                        }
                    }()
                return [
                    "key": field.key, "label": field.label, "required": field.required, "isText": field.kind == .text || field.kind == .number,
                    "isDate": field.kind == .date, "isChoice": field.kind == .choice, "isMulti": field.kind == .multiChoice,
                    "value": current.first ?? "",
                    "choices": field.choices.enumerated().map {
                        ["value": $0.element, "index": $0.offset, "selected": current.contains($0.element)]
                    },
                ]
            },
        ]
        return values.merging(ClientData.residenceFormValues(data, form: form)) { $1 }
    }

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
        routes.get("/faelle", .workCases) { request, context in
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

        routes.get("/klienten", .workCases) { request, context in
            let query = request.uri.queryParameters["q"].map(String.init) ?? ""
            var data: [String: Any] = ["q": query]
            if !query.isEmpty {
                do {
                    let found = try await work.search(query, by: context.identity, clientAddress: context.clientAddress)
                    data["results"] = found.map {
                        [
                            "id": $0.id.uuidString.lowercased(), "name": $0.fullName, "birth": $0.data.dateOfBirth.german,
                            "residence": $0.data.placeOfResidence as Any,
                        ]
                    }
                    data["searched"] = true
                    data["count"] = found.count
                } catch let error as InvalidInput {
                    data.merge(Self.errorValues(error)) { $1 }
                }
            }
            return pages.render("clients", data, identity: context.identity, path: "/klienten")
        }

        routes.get("/aufnahme", .workCases) { _, context in
            try await intakePage(context, form: nil)
        }

        routes.post("/aufnahme", .workCases) { _, context -> Response in
            let form = context.form
            let fields = try await work.fields(by: context.identity)
            do {
                // The client's data and, if ticked, how the consent was given: every problem at once.
                let consented = form["consent"] == "1"
                let (data, consent) = try Self.intakeInput(form, fields: fields, consented: consented)
                let client = try await work.register(
                    data,
                    consent: consent,
                    allowDuplicate: form["allow_duplicate"] == "1",
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
                guard consented else { return .redirect(to: "/klienten/\(client.id.uuidString.lowercased())?registriert=1", type: .normal) }
                let channel = AccessChannel(rawValue: form["channel"]) ?? .level1
                let file = try await work.openCase(
                    client: client.id,
                    channel: channel,
                    reason: form["reason"],
                    nextReviewOn: nil,
                    owner: nil,
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
                return .redirect(to: "/faelle/\(file.id.uuidString.lowercased())", type: .normal)
            } catch let error as InvalidInput {
                return try await intakePage(context, form: form, errors: error, status: .unprocessableContent)
            } catch let duplicate as DuplicateClient {
                return try await intakePage(context, form: form, duplicate: duplicate, status: .conflict)
            }
        }

        routes.get("/klienten/{id}", .workCases) { request, context in
            let query = request.uri.queryParameters
            let notice =
                query["registriert"] != nil
                ? "Der Klient ist registriert. Ohne Einwilligung in das Case Management kann noch kein Fall eröffnet werden." : nil
            let withdrawn = query["widerrufen"].flatMap { UUID(uuidString: String($0)) }
            let ended = query["zugriffe"].flatMap { Int(String($0)) } ?? 0
            let recorded = query["erfasst"].flatMap { UUID(uuidString: String($0)) }
            return try await clientPage(
                context,
                id: try context.id(),
                notice: notice,
                withdrawn: withdrawn.map { ($0, ended) },
                recorded: recorded
            )
        }

        routes.post("/klienten/{id}", .workCases) { _, context -> Response in
            let id = try context.id()
            let fields = try await work.fields(by: context.identity)
            do {
                let data = try Self.clientData(context.form, fields: fields)
                _ = try await work.update(
                    client: id,
                    version: Int(context.form["version"]) ?? -1,
                    with: data,
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
                return .redirect(to: "/klienten/\(id.uuidString.lowercased())?gespeichert=1", type: .normal)
            } catch let error as InvalidInput {
                return try await clientPage(context, id: id, form: context.form, errors: error, status: .unprocessableContent)
            } catch DomainError.stale(let message) {
                return try await clientPage(context, id: id, message: message, status: .conflict)
            }
        }

        routes.post("/klienten/{id}/einwilligungen", .workCases) { _, context -> Response in
            let id = try context.id()
            do {
                let (scope, given) = try Self.consentInput(context.form)
                let consent = try await work.recordConsent(
                    client: id,
                    scope: scope,
                    recipient: context.form["recipient"],
                    given: given,
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
                return .redirect(to: "/klienten/\(id.uuidString.lowercased())?erfasst=\(consent.id.uuidString.lowercased())", type: .normal)
            } catch let error as InvalidInput {
                return try await clientPage(context, id: id, consentForm: context.form, errors: error, status: .unprocessableContent)
            }
        }

        routes.get("/klienten/{id}/einwilligungsformular", .workCases) { _, context in
            let (client, _, _) = try await work.client(try context.id(), by: context.identity, clientAddress: context.clientAddress)
            let data: [String: Any] = [
                "clientID": client.id.uuidString.lowercased(), "name": client.fullName, "birth": client.data.dateOfBirth.german,
                "tenantName": context.identity.tenant.name, "manners": Consent.Manner.allCases.map(\.label),
            ]
            return pages.render("consent-form", data, identity: context.identity, path: "/klienten")
        }

        routes.get("/klienten/{id}/einwilligungen/{consent}/widerruf", .workCases) { _, context in
            try await withdrawalPage(context, client: try context.id(), consent: try context.id("consent"))
        }

        routes.post("/klienten/{id}/einwilligungen/{consent}/widerruf", .workCases) { _, context -> Response in
            let id = try context.id()
            let consent = try context.id("consent")
            let ended = try await work.withdrawConsent(consent, client: id, on: .today, by: context.identity, clientAddress: context.clientAddress)
            let query = "widerrufen=\(consent.uuidString.lowercased())&zugriffe=\(ended)"
            return .redirect(to: "/klienten/\(id.uuidString.lowercased())?\(query)", type: .normal)
        }

        routes.post("/klienten/{id}/faelle", .workCases) { _, context -> Response in
            let id = try context.id()
            do {
                let file = try await work.openCase(
                    client: id,
                    channel: AccessChannel(rawValue: context.form["channel"]) ?? .level1,
                    reason: context.form["reason"],
                    nextReviewOn: nil,
                    owner: nil,
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
                return .redirect(to: "/faelle/\(file.id.uuidString.lowercased())", type: .normal)
            } catch let error as InvalidInput {
                return try await clientPage(context, id: id, errors: error, status: .unprocessableContent)
            }
        }

        routes.get("/faelle/{id}", .workCases) { request, context in
            let query = request.uri.queryParameters
            return try await casePage(
                context,
                id: try context.id(),
                notice: query["gespeichert"] != nil ? "Gespeichert." : nil,
                done: query["erledigt"].map(String.init),
                referral: query["verweisung"].flatMap { UUID(uuidString: String($0)) }
            )
        }

        caseForm("phase", on: routes) { id, form, context in
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
        caseForm("uebergabe", done: "uebergabe", on: routes) { id, form, context in
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
        caseForm("vermerke", done: "vermerk", on: routes) { id, form, context in
            try await work.addNote(case: id, text: form.raw("text"), by: context.identity, clientAddress: context.clientAddress)
        }
        caseForm("ziele", done: "ziel", on: routes) { id, form, context in
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
        caseForm("ziele/{goal}/verschieben", done: "verschoben", on: routes) { id, form, context in
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
        caseForm("ziele/{goal}/pruefung", done: "pruefung", on: routes) { id, form, context in
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

    // MARK: - Pages

    func intakePage(
        _ context: SignedInContext,
        form: Form?,
        errors: InvalidInput? = nil,
        duplicate: DuplicateClient? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let fields = try await work.fields(by: context.identity)
        var data = Self.clientFormValues(nil, form: form, fields: fields)
        if let errors { data.merge(Self.errorValues(errors)) { $1 } }
        if let duplicate {
            data["duplicate"] = ["id": duplicate.existing.uuidString.lowercased()]
        }
        data["consent"] = form?["consent"] == "1"  // never ticked for the user: consent is the client's explicit act
        data.merge(Self.consentFormValues(form, prefix: "consent_", errors: errors?.errors ?? [:])) { $1 }
        data["reason"] = form?["reason"] ?? ""
        let channel = form?["channel"] ?? "level1"
        data["channels"] = AccessChannel.allCases.map { ["value": $0.rawValue, "label": $0.label, "selected": $0.rawValue == channel] }
        return pages.render("intake", data, identity: context.identity, path: "/aufnahme", status: status)
    }

    func clientPage(
        _ context: SignedInContext,
        id: UUID,
        form: Form? = nil,
        consentForm: Form? = nil,
        errors: InvalidInput? = nil,
        message: String? = nil,
        notice: String? = nil,
        withdrawn: (consent: UUID, ended: Int)? = nil,
        recorded: UUID? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let (client, consents, cases) = try await work.client(id, by: context.identity, clientAddress: context.clientAddress)
        var notice = notice
        if let withdrawn, let consent = consents.first(where: { $0.id == withdrawn.consent }), let day = consent.withdrawnOn {
            notice = Self.withdrawalDone(consent, on: day, ended: withdrawn.ended)
        }
        if let recorded, let consent = consents.first(where: { $0.id == recorded }) { notice = Self.consentRecorded(consent) }
        let fields = try await work.fields(by: context.identity)
        var data = Self.clientFormValues(client.data, form: form, fields: fields)
        if let errors { data.merge(Self.errorValues(errors)) { $1 } }
        if let message { data["message"] = message }
        if let notice { data["notice"] = notice }
        data.merge(Self.consentFormValues(consentForm, prefix: "", errors: consentForm == nil ? [:] : errors?.errors ?? [:])) { $1 }
        let hasOpenCase = cases.contains { $0.closedOn == nil }
        data.merge([
            "id": client.id.uuidString.lowercased(), "clientID": client.id.uuidString.lowercased(), "name": client.fullName,
            "version": client.version,
            "targetGroups": [
                client.arrivedRecently ? "in den letzten zwei Jahren zugewandert" : nil, client.data.singleParent == true ? "alleinerziehend" : nil,
                client.data.unaccompaniedMinor == true ? "unbegleitet minderjährig" : nil,
                client.data.familyWithBarriers == true ? "Familie mit besonderen Integrationsbarrieren" : nil,
            ].compactMap { $0 }.joined(separator: ", ").nonEmpty as Any,
            "hasConsent": client.hasCaseManagementConsent,
            "consents": consents.map { consent -> [String: Any] in
                [
                    "id": consent.id.uuidString.lowercased(),
                    "scope": Self.consentScope(consent),
                    "given": consent.givenOn.german, "withdrawn": consent.withdrawnOn?.german as Any, "expires": consent.expiresOn?.german as Any,
                    "active": consent.isActive, "state": Self.consentState(consent), "how": Self.consentHow(consent),
                ]
            },
            "cases": cases.map(Self.caseRow), "hasCases": !cases.isEmpty, "hasOpenCase": hasOpenCase,
            "canOpenCase": client.hasCaseManagementConsent && !hasOpenCase,
            "channels": AccessChannel.allCases.map { ["value": $0.rawValue, "label": $0.label, "selected": $0 == .level1] },
            "today": Day.today.iso,
        ]) { $1 }
        return pages.render("client", data, identity: context.identity, path: "/klienten", status: status)
    }

    /// A consent's state in words, as the client page shows it.
    static func consentState(_ consent: Consent) -> String {
        if let withdrawn = consent.withdrawnOn, withdrawn <= .today { return "widerrufen" }
        if let expires = consent.expiresOn, expires < .today { return "abgelaufen" }
        if consent.withdrawnOn != nil { return "in Kraft, Widerruf erfasst" }
        return consent.expiresOn == nil ? "in Kraft, unbefristet" : "in Kraft, befristet"
    }

    static func consentScope(_ consent: Consent) -> String {
        consent.scope == .caseManagement ? "Case Management" : "Übergabe an \(consent.recipient ?? "eine Stelle")"
    }

    /// What withdrawing `consent` ends, in the words the confirmation page uses.
    static func withdrawalEnds(_ consent: Consent) -> [String] {
        switch consent.scope {
        case .caseManagement:
            [
                "die Arbeit an den Fällen dieses Klienten: Ziele, Vermerke, Verweisungen und Fallkonferenzen sind nicht mehr möglich, "
                    + "ein offener Fall kann nur noch abgeschlossen werden",
                "jeden Zugriff von Beratungsstellen, an die verwiesen wurde (auch wenn dafür eine eigene Einwilligung vorliegt)",
            ]
        case .handover:
            ["den Zugriff von \(consent.recipient ?? "der Stelle, an die übergeben wurde,") auf die übermittelten Angaben"]
        }
    }

    /// The message after a withdrawal: what it ended.
    static func withdrawalDone(_ consent: Consent, on day: Day, ended: Int) -> String {
        let grants = ended == 1 ? "1 Zugriff einer Beratungsstelle beendet" : "\(ended) Zugriffe von Beratungsstellen beendet"
        return switch consent.scope {
        case .caseManagement: "Einwilligung in das Case Management zum \(day.german) widerrufen; die Fallarbeit ist beendet, \(grants)."
        case .handover: "Einwilligung in die \(consentScope(consent)) zum \(day.german) widerrufen; \(grants)."
        }
    }

    /// The confirmation step of a withdrawal: what it ends and from when, before anything happens.
    func withdrawalPage(_ context: SignedInContext, client id: UUID, consent consentID: UUID) async throws -> Response {
        let (client, consent, ending) = try await work.withdrawal(
            of: consentID,
            client: id,
            by: context.identity,
            clientAddress: context.clientAddress
        )
        let data: [String: Any] = [
            "losing": ending.map { ["what": $0.what, "when": GermanFormat.date($0.at)] }, "losesNone": ending.isEmpty,
            "clientID": client.id.uuidString.lowercased(), "name": client.fullName, "consentID": consent.id.uuidString.lowercased(),
            "scope": Self.consentScope(consent), "given": consent.givenOn.german, "how": Self.consentHow(consent), "day": Day.today.german,
            "ends": Self.withdrawalEnds(consent),
        ]
        return pages.render("consent-withdrawal", data, identity: context.identity, path: "/klienten")
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
