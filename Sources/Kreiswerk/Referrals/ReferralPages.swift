import Foundation
import Hummingbird

/// The referral form on the case page, and the receiving carrier's incoming referrals (`/verweisungen`).
struct ReferralPages {
    let referrals: Referrals
    let work: CaseWork
    let pages: Pages

    static func values(_ referral: Referral) -> [String: Any] {
        [
            "id": referral.id.uuidString.lowercased(), "service": referral.serviceName, "receiverName": referral.receiverName,
            "senderName": referral.senderName, "senderOrganisation": referral.senderOrganisation,
            "sender": referral.sender, "caseNumber": referral.caseNumber, "name": "\(referral.firstName) \(referral.lastName)",
            "birth": referral.dateOfBirth.german, "languages": referral.languages.joined(separator: ", "), "germanLevel": referral.germanLevel ?? "–",
            "residence": referral.placeOfResidence ?? "–", "reason": referral.reason, "sent": GermanFormat.date(referral.sentAt),
            "state": Referral.stateLabel(referral.state), "isSent": referral.state == "sent",
            "canGiveFeedback": referral.state == "accepted" || referral.state == "feedback", "grantActive": referral.grantActive,
            "responses": referral.responses.map { response -> [String: Any] in
                [
                    "kind": Referral.stateLabel(response.kind), "outcome": response.outcome.flatMap { Referral.outcomes[$0] } as Any,
                    "note": response.note.nonEmpty as Any,
                    "who": response.responderName, "when": GermanFormat.date(response.respondedAt),
                ]
            },
        ]
    }

    /// What the incoming referrals page says after an answer: what was done, for whom.
    static func answered(_ kind: String, _ referral: Referral?) -> String? {
        let whom = referral.map { " für \($0.firstName) \($0.lastName)" } ?? ""
        let service = referral.map { " (\($0.serviceName))" } ?? ""
        return switch kind {
        case "accepted": "Verweisung\(whom)\(service) angenommen; die verweisende Stelle sieht es."
        case "declined": "Verweisung\(whom)\(service) abgelehnt; die verweisende Stelle sieht den Grund."
        case "feedback": "Rückmeldung zur Verweisung\(whom)\(service) gesendet."
        default: nil
        }
    }

    func incomingPage(
        _ context: SignedInContext,
        errors: InvalidInput? = nil,
        answered: (kind: String, referral: UUID)? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let incoming = try await referrals.incoming(by: context.identity, clientAddress: context.clientAddress)
        var data: [String: Any] = [
            "referrals": incoming.map(Self.values), "count": GermanFormat.count(incoming.count, "Verweisung", "Verweisungen"),
            "outcomes": Referral.outcomes.sorted { $0.key < $1.key }.map { ["value": $0.key, "label": $0.value] },
        ]
        if let errors { data.merge(CasePages.errorValues(errors)) { $1 } }
        if let answered { data["notice"] = Self.answered(answered.kind, incoming.first { $0.id == answered.referral }) }
        return pages.render("referrals", data, identity: context.identity, path: "/verweisungen", status: status)
    }

    func register(on routes: GuardedRouter, casePages: CasePages) {
        routes.get("/verweisungen", .answerReferrals) { request, context in
            let query = request.uri.queryParameters
            let referral = query["verweisung"].flatMap { UUID(uuidString: String($0)) }
            return try await incomingPage(context, answered: referral.map { (query["antwort"].map(String.init) ?? "", $0) })
        }

        routes.post("/verweisungen/{id}/antwort", .answerReferrals) { _, context -> Response in
            let form = context.form
            let id = try context.id()
            do {
                _ = try await referrals.respond(
                    id,
                    kind: form["kind"],
                    outcome: form["outcome"].isEmpty ? nil : form["outcome"],
                    note: form["note"],
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
            } catch let error as InvalidInput {
                return try await incomingPage(context, errors: error, status: .unprocessableContent)
            }
            let kind = form["kind"].addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            return .redirect(to: "/verweisungen?antwort=\(kind)&verweisung=\(id.uuidString.lowercased())", type: .normal)
        }

        routes.post("/faelle/{id}/verweisungen", .workCases) { _, context -> Response in
            let id = try context.id()
            let form = context.form
            do {
                guard let service = UUID(uuidString: form["service_id"]) else {
                    throw InvalidInput(field: "service_id", "Bitte eine Beratungsstelle wählen.")
                }
                // The hand-over consent, never assumed: ticked, and said when and how it was given.
                let (consent, wrong) = CasePages.tickedConsent(form)
                let sent = try await referrals.send(
                    case: id,
                    service: service,
                    reason: form["reason"],
                    consent: consent,
                    alsoWrong: wrong,
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
                let done = "erledigt=verweisung&verweisung=\(sent.id.uuidString.lowercased())"
                return .redirect(to: "/faelle/\(id.uuidString.lowercased())?\(done)", type: .normal)
            } catch let error as InvalidInput {
                // The referral form's fields are named apart from the other forms' on the case page (its reason, its consent).
                let names = [
                    "reason": "referral_reason", "consent": "referral_consent", "consent_given_on": "referral_consent_date",
                    "consent_given_how": "referral_consent_given_how", "consent_interpreter_language": "referral_consent_interpreter_language",
                ]
                let errors = InvalidInput(errors: Dictionary(error.errors.map { (names[$0.key] ?? $0.key, $0.value) }) { first, _ in first })
                return try await casePages.casePage(context, id: id, errors: errors, referralForm: form, status: .unprocessableContent)
            }
        }
    }
}
