import Foundation
import Hummingbird

/// Level-2 reports: `/api/v1/reports…` and the page `/meldungen` (the reporter's form and sent
/// reports; the case-management team's inbox).
struct ReportRoutes {
    let reports: Level2Reports
    let pages: Pages
    let policy: Policy

    struct Decision: Decodable {
        var decision: String
        var reason: String?
    }

    func register(on routes: GuardedRouter) {
        routes.on(.post, "/api/v1/reports", .reportCases) { request, context in
            let body = try await request.json(NewCaseReport.self, context: context, snakeCase: true)
            return JSONResponse(
                try await reports.report(body, by: context.identity, clientAddress: context.clientAddress),
                status: .created,
                snakeCase: true
            )
        }
        routes.get("/api/v1/reports/sent", .reportCases) { _, context in
            JSONResponse(try await reports.list(received: false, by: context.identity, clientAddress: context.clientAddress), snakeCase: true)
        }
        routes.get("/api/v1/reports/inbox", .workCases) { _, context in
            JSONResponse(try await reports.list(received: true, by: context.identity, clientAddress: context.clientAddress), snakeCase: true)
        }
        routes.on(.post, "/api/v1/reports/{id}/decision", .workCases) { request, context in
            let body = try await request.json(Decision.self, context: context, snakeCase: true)
            guard ["accepted", "declined"].contains(body.decision) else {
                throw InvalidInput(field: "decision", "Die Entscheidung ist accepted (annehmen) oder declined (ablehnen).")
            }
            return JSONResponse(
                try await reports.decide(
                    try context.id(),
                    accept: body.decision == "accepted",
                    reason: body.reason ?? "",
                    by: context.identity,
                    clientAddress: context.clientAddress
                ),
                snakeCase: true
            )
        }

        routes.get("/meldungen", .ownAccount) { _, context in try await page(context) }
        routes.post("/meldungen", .reportCases) { _, context -> Response in
            let form = context.form
            do {
                guard let day = try Day.parse(form["date_of_birth"], field: "date_of_birth", label: "Geburtsdatum") else {
                    throw InvalidInput(field: "date_of_birth", "Bitte das Geburtsdatum angeben, z. B. 2001-07-30.")
                }
                guard let complexity = Complexity(rawValue: form["complexity"]) else {
                    throw InvalidInput(field: "complexity", "Bitte die Art der Komplexität wählen.")
                }
                // The person's consent, never assumed: ticked, and said when and how it was given.
                let (consent, wrong) = CasePages.tickedConsent(form)
                let report = NewCaseReport(
                    town: form["town"],
                    complexity: complexity,
                    firstName: form["first_name"],
                    lastName: form["last_name"],
                    dateOfBirth: day,
                    languages: form["languages"].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty },
                    contact: form["contact"].isEmpty ? nil : form["contact"],
                    description: form.raw("description"),
                    consentGivenOn: consent?.givenOn,
                    consentGivenHow: consent?.how,
                    consentInterpreterLanguage: consent?.interpreterLanguage
                )
                _ = try await reports.report(report, alsoWrong: wrong, by: context.identity, clientAddress: context.clientAddress)
            } catch let error as InvalidInput {
                return try await page(context, form: form, errors: error, status: .unprocessableContent)
            }
            return .redirect(to: "/meldungen?gesendet=1", type: .normal)
        }
        routes.post("/meldungen/{id}/entscheidung", .workCases) { _, context -> Response in
            let form = context.form
            do {
                let report = try await reports.decide(
                    try context.id(),
                    accept: form["decision"] == "accepted",
                    reason: form["reason"],
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
                if let caseID = report.caseID { return .redirect(to: "/faelle/\(caseID.uuidString.lowercased())", type: .normal) }
            } catch let error as InvalidInput {
                return try await page(context, errors: error, status: .unprocessableContent)
            }
            return .redirect(to: "/meldungen", type: .normal)
        }
    }

    static func values(_ report: CaseReport) -> [String: Any] {
        [
            "id": report.id.uuidString.lowercased(), "name": "\(report.firstName) \(report.lastName)", "birth": report.dateOfBirth.german,
            "town": report.townName, "reporter": "\(report.reporterName), \(report.reporterTenantName)", "complexity": report.complexity.label,
            "channel": report.channel.label, "description": report.description, "contact": report.contact ?? "–",
            "languages": report.languages.joined(separator: ", "), "when": GermanFormat.date(report.reportedAt), "open": report.state == "open",
            "state": report.state == "open" ? "offen" : report.state == "accepted" ? "angenommen" : "abgelehnt",
            "reason": report.decisionReason?.nonEmpty as Any,
            "decider": report.deciderName as Any, "caseID": report.caseID?.uuidString.lowercased() as Any,
            "consent": "Einverständnis vom \(report.consentGivenOn.german), \(report.consentHowInWords ?? "wie gegeben: nicht erfasst")",
        ]
    }

    func page(_ context: SignedInContext, form: Form? = nil, errors: InvalidInput? = nil, status: HTTPResponse.Status = .ok) async throws -> Response
    {
        let identity = context.identity
        let canReport = policy.allows(identity, .reportCases)
        let canReceive = policy.allows(identity, .workCases)
        guard canReport || canReceive else {
            throw DomainError.forbidden("Meldungen schreiben meldende Stellen; den Eingang sehen die Case Manager der Städte.")
        }
        var data: [String: Any] = ["canReport": canReport, "canReceive": canReceive]
        if canReport {
            data["sent"] = try await reports.list(received: false, by: identity, clientAddress: context.clientAddress).map(Self.values)
            data["towns"] = try await reports.towns(for: identity).map { ["slug": $0.slug, "name": $0.name, "selected": $0.slug == form?["town"]] }
            data["complexities"] = Complexity.allCases.map {
                ["value": $0.rawValue, "label": $0.label, "selected": $0.rawValue == form?["complexity"]]
            }
            data["form"] = [
                "first_name": form?["first_name"] ?? "", "last_name": form?["last_name"] ?? "", "date_of_birth": form?["date_of_birth"] ?? "",
                "languages": form?["languages"] ?? "", "contact": form?["contact"] ?? "", "description": form?["description"] ?? "",
            ]
            data["consentTicked"] = form?["consent"] == "1"
            data["consentGivenOn"] = form.map { $0["consent_given_on"] }?.nonEmpty ?? Day.today.iso
            data["consentManner"] = CasePages.consentMannerValues(form, name: "consent_", id: "consent_", errors: errors?.errors ?? [:])
        }
        if canReceive { data["inbox"] = try await reports.list(received: true, by: identity, clientAddress: context.clientAddress).map(Self.values) }
        if let errors { data.merge(CasePages.errorValues(errors)) { $1 } }
        return pages.render("reports", data, identity: identity, path: "/meldungen", status: status)
    }
}
