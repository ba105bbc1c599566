import Foundation
import Hummingbird

/// The consent forms of the intake and the client page: how a consent was given (in writing, orally, with an interpreter
/// and in which language), its scope and, if limited, its end. Nothing is preselected; a form that does not say how the
/// consent was given is refused, and the page keeps every input.
extension CasePages {
    /// The intake's client data and, if the consent is ticked, the consent (its fields named consent_…): every problem at once.
    static func intakeInput(_ form: Form, fields: [ClientField], consented: Bool) throws(InvalidInput) -> (ClientData, ConsentGiven?) {
        var errors: [String: String] = [:]
        var data: ClientData?
        do { data = try clientData(form, fields: fields).validated() } catch { errors.merge(error.errors) { first, _ in first } }
        var consent: ConsentGiven?
        if consented {
            do { consent = try consentGiven(form, prefix: "consent_") } catch { errors.merge(error.errors) { first, _ in first } }
        }
        guard errors.isEmpty, let data else { throw InvalidInput(errors: errors) }
        return (data, consent)
    }

    /// The client page's consent form: its scope (chosen, never assumed) and how, when and until when it was given.
    static func consentInput(_ form: Form) throws(InvalidInput) -> (Consent.Scope, ConsentGiven) {
        var errors: [String: String] = [:]
        let scope = Consent.Scope(rawValue: form["scope"])
        if scope == nil { errors["scope"] = "Bitte den Umfang wählen: Case Management oder Übergabe an eine Stelle." }
        var given: ConsentGiven?
        do { given = try consentGiven(form, prefix: "") } catch { errors.merge(error.errors) { first, _ in first } }
        guard errors.isEmpty, let scope, let given else { throw InvalidInput(errors: errors) }
        return (scope, given)
    }

    /// When, how and until when a consent was given, from fields named `prefix` + given_on, given_how, interpreter_language and
    /// expires_on; the pages require how it was given.
    static func consentGiven(_ form: Form, prefix: String) throws(InvalidInput) -> ConsentGiven {
        var errors: [String: String] = [:]
        func day(_ name: String, _ label: String) -> Day? {
            do { return try Day.parse(form[prefix + name], field: prefix + name, label: label) } catch {
                errors.merge(error.errors) { first, _ in first }
                return nil
            }
        }
        let given = ConsentGiven(
            givenOn: day("given_on", "Datum der Einwilligung") ?? .today,
            how: Consent.Manner(rawValue: form[prefix + "given_how"]),
            interpreterLanguage: form[prefix + "interpreter_language"],
            expiresOn: day("expires_on", "Gültig bis")
        )
        do {
            let checked = try given.validated(prefix: prefix, requireHow: true)
            if errors.isEmpty { return checked }
        } catch {
            errors.merge(error.errors) { first, _ in first }
        }
        throw InvalidInput(errors: errors)
    }

    /// The consent form's values, as entered (after a refusal) or empty: no scope and no manner chosen, the date today. How
    /// it was given is the partial `consent-manner` (`consentManner`), as on every form that records a consent.
    static func consentFormValues(_ form: Form?, prefix: String, errors: [String: String] = [:]) -> [String: Any] {
        var values: [String: Any] = [
            prefix + "given_on": form.map { $0[prefix + "given_on"] }?.nonEmpty ?? Day.today.iso,
            prefix + "expires_on": form.map { $0[prefix + "expires_on"] }?.nonEmpty as Any,
            "consentManner": consentMannerValues(form, name: prefix, id: prefix, errors: errors),
        ]
        if prefix.isEmpty {
            let scope = form?["scope"]
            values["scopes"] = [("case_management", "Case Management"), ("handover", "Übergabe an eine Stelle")].map {
                ["value": $0.0, "label": $0.1, "selected": $0.0 == scope]
            }
            values["recipient"] = form.map { $0["recipient"] }?.nonEmpty as Any
        }
        return values
    }

    /// The consent a form records along with something else (its checkbox `consent`, its fields consent_…): nil when not
    /// ticked; when ticked, how it was given must be said. The problems come back to be reported with the rest of the form's.
    static func tickedConsent(_ form: Form) -> (consent: ConsentGiven?, problems: [String: String]) {
        guard form["consent"] == "1" else { return (nil, [:]) }
        do { return (try consentGiven(form, prefix: "consent_"), [:]) } catch { return (nil, error.errors) }
    }

    /// The values of the partial `consent-manner`: how a consent recorded as part of another form (a referral, a conference,
    /// a level-2 report) was given, the same fields as the intake's. Field names start with `name`, element ids with `id`;
    /// `errors` are keyed by id (`<id>given_how`, `<id>interpreter_language`). Nothing is preselected; after a refusal the
    /// choice and the language typed are kept. Pass the result as one object, `{{#key}}{{>consent-manner}}{{/key}}`.
    static func consentMannerValues(_ form: Form?, name: String, id: String, errors: [String: String] = [:]) -> [String: Any] {
        let how = form?[name + "given_how"]
        return [
            "mannerID": id, "mannerName": name,
            "manners": Consent.Manner.allCases.map { ["value": $0.rawValue, "label": $0.label, "selected": $0.rawValue == how] },
            "mannerLanguage": form.map { $0[name + "interpreter_language"] }?.nonEmpty as Any,
            "mannerHowError": errors[id + "given_how"] as Any, "mannerLanguageError": errors[id + "interpreter_language"] as Any,
        ]
    }

    /// How a consent was given, as the client page shows it beside its state.
    static func consentHow(_ consent: Consent) -> String {
        consent.howInWords ?? "wie gegeben: nicht erfasst"
    }

    /// The message after a consent was recorded: what, from when, how and until when.
    static func consentRecorded(_ consent: Consent) -> String {
        let scope = consent.scope == .caseManagement ? "in das Case Management" : "in die \(consentScope(consent))"
        let until = consent.expiresOn.map { ", gültig bis \($0.german)" } ?? ", unbefristet"
        return "Einwilligung \(scope) erfasst: gegeben am \(consent.givenOn.german), \(consentHow(consent))\(until)."
    }

    // MARK: - Consent handlers

    /// `POST /klienten/{id}/einwilligungen`: a consent the client gave, with how.
    @Sendable func recordConsent(_ request: Request, _ context: SignedInContext) async throws -> Response {
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

    /// `GET /klienten/{id}/einwilligungsformular`: the printable consent form for the client to sign.
    @Sendable func consentForm(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let (client, _, _) = try await work.client(try context.id(), by: context.identity, clientAddress: context.clientAddress)
        let data: [String: Any] = [
            "clientID": client.id.uuidString.lowercased(), "name": client.fullName, "birth": client.data.dateOfBirth.german,
            "tenantName": context.identity.tenant.name, "manners": Consent.Manner.allCases.map(\.label),
        ]
        return pages.render("consent-form", data, identity: context.identity, path: "/klienten")
    }

    /// `POST /klienten/{id}/einwilligungen/{consent}/widerruf`: the withdrawal, confirmed on its own page.
    @Sendable func withdrawConsent(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let id = try context.id()
        let consent = try context.id("consent")
        let ended = try await work.withdrawConsent(consent, client: id, on: .today, by: context.identity, clientAddress: context.clientAddress)
        let query = "widerrufen=\(consent.uuidString.lowercased())&zugriffe=\(ended)"
        return .redirect(to: "/klienten/\(id.uuidString.lowercased())?\(query)", type: .normal)
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
}
