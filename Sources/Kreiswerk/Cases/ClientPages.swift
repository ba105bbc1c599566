import Foundation
import Hummingbird

/// The client pages of case work: search, intake (a client and, with consent, the case), the client page and its data.
extension CasePages {
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

    // MARK: - Client handlers

    /// `GET /klienten?q=`: clients by name.
    @Sendable func clientSearch(_ request: Request, _ context: SignedInContext) async throws -> Response {
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

    /// `POST /aufnahme`: registers the client and, with consent, opens the case.
    @Sendable func intake(_ request: Request, _ context: SignedInContext) async throws -> Response {
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

    /// `GET /klienten/{id}`, with the message of what was just done.
    @Sendable func client(_ request: Request, _ context: SignedInContext) async throws -> Response {
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

    /// `POST /klienten/{id}`: the client's data, against the version the form was read at.
    @Sendable func updateClient(_ request: Request, _ context: SignedInContext) async throws -> Response {
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

    /// `POST /klienten/{id}/faelle`: a new case for a client with consent.
    @Sendable func openCase(_ request: Request, _ context: SignedInContext) async throws -> Response {
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

    // MARK: - Client pages

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
}
