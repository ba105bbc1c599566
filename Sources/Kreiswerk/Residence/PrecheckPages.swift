import Foundation
import Hummingbird

/// Pre-checks in the browser: the case's page of them, where a case manager asks an ABH (`/faelle/{id}/vorpruefungen`),
/// and the ABH's inbox (`/abh/vorpruefungen`) with each pre-check and its answer form.
struct PrecheckPages {
    let prechecks: AbhPrechecks
    let pages: Pages

    static let labels: [String: String] = [
        "abh": "Ausländerbehörde", "kind": "Worum es geht", "years_of_residence": "Jahre in Deutschland", "language_level": "Deutschkenntnisse",
        "livelihood": "Lebensunterhalt", "school_or_work": "Schule, Ausbildung oder Arbeit", "missing": "Was nach Ihrer Kenntnis noch fehlt",
        "question": "Ihre Frage", "consent": "Einwilligung", "consent_given_on": "Einwilligung vom", "verdict": "Antwort", "note": "Anmerkung",
    ]

    func register(on routes: GuardedRouter) {
        routes.get("/faelle/{id}/vorpruefungen", .workCases) { request, context in
            let notice = request.uri.queryParameters["gefragt"] != nil ? "Vorprüfung angefragt; die Ausländerbehörde ist benachrichtigt." : nil
            return try await casePage(context, notice: notice)
        }
        routes.post("/faelle/{id}/vorpruefungen", .workCases, use: ask)
        routes.get("/abh/vorpruefungen", .keepApplicationRegister) { request, context in
            let inbox = try await prechecks.inbox(by: context.identity, clientAddress: context.clientAddress)
            let open = inbox.filter { $0.latest == nil }.count
            let data: [String: Any] = [
                "prechecks": inbox.map { Self.values($0) }, "hasPrechecks": !inbox.isEmpty,
                "count": GermanFormat.count(inbox.count, "Anfrage", "Anfragen"), "open": GermanFormat.count(open, "unbeantwortet", "unbeantwortet"),
            ]
            return pages.render("abh-prechecks", data, identity: context.identity, path: "/abh/vorpruefungen")
        }
        routes.get("/abh/vorpruefungen/{id}", .keepApplicationRegister) { request, context in
            let notice =
                request.uri.queryParameters["beantwortet"] != nil
                ? "Antwort gesendet; die anfragende Fallmanagerin oder der Fallmanager ist benachrichtigt." : nil
            return try await detailPage(context, notice: notice)
        }
        routes.post("/abh/vorpruefungen/{id}/antwort", .keepApplicationRegister, use: answer)
    }

    // MARK: - The case manager's side

    @Sendable func ask(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let form = context.form
        let id = try context.id()
        var errors: [String: String] = [:]
        var new = NewPrecheck()
        new.abhTenantID = UUID(uuidString: form["abh"])
        new.kind = ResidenceApplication.Kind(rawValue: form["kind"])
        if !form["years_of_residence"].isEmpty {
            new.yearsOfResidence = Int(form["years_of_residence"].trimmingCharacters(in: .whitespaces))
            if new.yearsOfResidence == nil { errors["years_of_residence"] = "Die Aufenthaltsjahre: bitte eine ganze Zahl von 0 bis 99 angeben." }
        }
        new.languageLevel = form["language_level"].nonEmpty
        if !form["livelihood"].isEmpty {
            new.livelihood = Precheck.Livelihood(rawValue: form["livelihood"])
            if new.livelihood == nil { errors["livelihood"] = "Bitte aus der Liste wählen." }
        }
        new.schoolOrWork = form["school_or_work"]
        new.missing = form["missing"]
        new.question = form["question"]
        if form["consent"] == "1" {
            do { new.consentGivenOn = try Day.parse(form["consent_given_on"], field: "consent_given_on", label: "Einwilligung vom") ?? .today } catch
            {
                errors.merge(error.errors) { first, _ in first }
            }
        }
        do {
            do { _ = try new.validated() } catch { errors.merge(error.errors) { first, _ in first } }
            if !errors.isEmpty { throw InvalidInput(errors: errors) }
            _ = try await prechecks.ask(case: id, new, by: context.identity, clientAddress: context.clientAddress)
            return .redirect(to: "/faelle/\(id.uuidString.lowercased())/vorpruefungen?gefragt=1", type: .normal)
        } catch let error as InvalidInput {
            return try await casePage(context, form: form, errors: error.errors, status: .unprocessableContent)
        }
    }

    static func choices(_ options: [(String, String)], _ chosen: String?) -> [[String: Any]] {
        ApplicationPages.choices(options, chosen, none: "– bitte wählen –")
    }

    func casePage(
        _ context: SignedInContext,
        notice: String? = nil,
        form: Form? = nil,
        errors: [String: String] = [:],
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let view = try await prechecks.caseView(try context.id(), by: context.identity, clientAddress: context.clientAddress)
        let level = form.map { $0["language_level"] } ?? view.client.data.germanLevel
        var data: [String: Any] = [
            "caseID": view.file.id.uuidString.lowercased(), "caseNumber": view.file.caseNumber, "clientName": view.file.clientName,
            "prechecks": view.prechecks.map { Self.values($0) }, "hasPrechecks": !view.prechecks.isEmpty,
            "canAsk": view.file.closedOn == nil && view.client.hasCaseManagementConsent && !view.offices.isEmpty,
            "closed": view.file.closedOn != nil, "noOffice": view.offices.isEmpty,
            "residence": view.client.data.residenceInWords as Any,
            "offices": Self.choices(view.offices.map { ($0.id.uuidString.lowercased(), $0.name) }, form?["abh"].lowercased()),
            "kinds": Self.choices(ResidenceApplication.Kind.allCases.map { ($0.rawValue, $0.label) }, form?["kind"]),
            "levels": Self.choices(ClientData.germanLevels.map { ($0, $0 == "none" ? "keine" : $0) }, level),
            "livelihoods": Self.choices(Precheck.Livelihood.allCases.map { ($0.rawValue, $0.label) }, form?["livelihood"]),
            "years_of_residence": form?["years_of_residence"] ?? "", "school_or_work": form?["school_or_work"] ?? "",
            "missing": form?["missing"] ?? "", "question": form?["question"] ?? "", "consentChecked": form?["consent"] == "1",
            "consent_given_on": form?["consent_given_on"].nonEmpty ?? Day.today.iso,
        ]
        data.merge(FormErrors.values(errors, labels: Self.labels)) { $1 }
        if let notice { data["notice"] = notice }
        return pages.render("abh-precheck-case", data, identity: context.identity, path: "/faelle", status: status)
    }

    // MARK: - The ABH's side

    @Sendable func answer(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let form = context.form
        let id = try context.id()
        do {
            _ = try await prechecks.answer(
                id,
                verdict: Precheck.Verdict(rawValue: form["verdict"]),
                note: form["note"],
                version: Int(form["version"]),
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return .redirect(to: "/abh/vorpruefungen/\(id.uuidString.lowercased())?beantwortet=1", type: .normal)
        } catch let error as InvalidInput {
            return try await detailPage(context, form: form, errors: error.errors, status: .unprocessableContent)
        } catch DomainError.conflict(let message) {
            return try await detailPage(context, message: message, status: .conflict)
        } catch DomainError.versionRequired(let message) {
            return try await detailPage(context, message: message, status: .conflict)
        }
    }

    func detailPage(
        _ context: SignedInContext,
        notice: String? = nil,
        message: String? = nil,
        form: Form? = nil,
        errors: [String: String] = [:],
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let precheck = try await prechecks.precheck(try context.id(), by: context.identity, clientAddress: context.clientAddress)
        var data = Self.values(precheck)
        data.merge([
            "version": precheck.version,
            "verdicts": Self.choices(Precheck.Verdict.answers.map { ($0.rawValue, $0.label) }, form?["verdict"]),
            "note": form?["note"] ?? "",
        ]) { $1 }
        data.merge(FormErrors.values(errors, labels: Self.labels)) { $1 }
        if let notice { data["notice"] = notice }
        if let message { data["message"] = message }
        return pages.render("abh-precheck", data, identity: context.identity, path: "/abh/vorpruefungen", status: status)
    }

    /// What both sides show of a pre-check; absent values are absent.
    static func values(_ precheck: Precheck) -> [String: Any] {
        [
            "id": precheck.id.uuidString.lowercased(), "kind": precheck.kind.short, "kindLabel": precheck.kind.label,
            "name": "\(precheck.firstName) \(precheck.lastName)", "birth": precheck.dateOfBirth.german, "abhName": precheck.abhName,
            "asker": precheck.askerTenantName, "senderName": precheck.senderName, "sent": GermanFormat.date(precheck.sentAt),
            // Named apart from the ask form's fields: a section looks a missing key up in the page around it.
            "askedResidence": precheck.residence as Any, "years": precheck.yearsOfResidence as Any,
            "languageLevel": precheck.languageLevel.map { $0 == "none" ? "keine" : $0 } as Any,
            "livelihood": precheck.livelihood?.label as Any, "askedSchoolOrWork": precheck.schoolOrWork?.nonEmpty as Any,
            "askedMissing": precheck.missing?.nonEmpty as Any, "askedQuestion": precheck.question?.nonEmpty as Any,
            "grantActive": precheck.grantActive,
            "state": precheck.latest.map { $0.verdict.label } ?? "noch nicht beantwortet", "answered": precheck.latest != nil,
            "answers": precheck.answers.map { answer -> [String: Any] in
                [
                    "verdict": answer.verdict.label, "answerNote": answer.note as Any, "who": answer.answererName,
                    "when": GermanFormat.date(answer.answeredAt),
                ]
            },
        ]
    }
}
