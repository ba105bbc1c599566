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
            "senderName": referral.senderName,
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

    func incomingPage(_ context: SignedInContext, errors: InvalidInput? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let incoming = try await referrals.incoming(by: context.identity, clientAddress: context.clientAddress)
        var data: [String: Any] = [
            "referrals": incoming.map(Self.values), "count": incoming.count,
            "outcomes": Referral.outcomes.sorted { $0.key < $1.key }.map { ["value": $0.key, "label": $0.value] },
        ]
        if let errors { data.merge(CasePages.errorValues(errors)) { $1 } }
        return pages.render("referrals", data, identity: context.identity, path: "/verweisungen", status: status)
    }

    func register(on routes: GuardedRouter, casePages: CasePages) {
        routes.get("/verweisungen", .workCases) { _, context in try await incomingPage(context) }

        routes.post("/verweisungen/{id}/antwort", .workCases) { _, context -> Response in
            let form = context.form
            do {
                _ = try await referrals.respond(
                    try context.id(),
                    kind: form["kind"],
                    outcome: form["outcome"].isEmpty ? nil : form["outcome"],
                    note: form["note"],
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
            } catch let error as InvalidInput {
                return try await incomingPage(context, errors: error, status: .unprocessableContent)
            }
            return .redirect(to: "/verweisungen", type: .normal)
        }

        routes.post("/faelle/{id}/verweisungen", .workCases) { _, context -> Response in
            let id = try context.id()
            let form = context.form
            do {
                guard let service = UUID(uuidString: form["service_id"]) else {
                    throw InvalidInput(field: "service_id", "Bitte eine Beratungsstelle wählen.")
                }
                let consent =
                    form["consent"] == "1"
                    ? try Day.parse(form["consent_given_on"], field: "consent_given_on", label: "Einwilligung vom") ?? .today : nil
                _ = try await referrals.send(
                    case: id,
                    service: service,
                    reason: form["reason"],
                    consentGivenOn: consent,
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
            } catch let error as InvalidInput {
                return try await casePages.casePage(context, id: id, errors: error, status: .unprocessableContent)
            }
            return .redirect(to: "/faelle/\(id.uuidString.lowercased())?gespeichert=1", type: .normal)
        }
    }
}
