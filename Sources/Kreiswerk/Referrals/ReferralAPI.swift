import Foundation
import Hummingbird

/// `/api/v1/cases/{id}/referrals`, `/api/v1/referrals…` (the directory is `ServiceAPI`).
struct ReferralAPI {
    let referrals: Referrals

    struct NewReferral: Decodable {
        var serviceId: UUID
        var reason: String
        var consentGivenOn: Day?
        var consentGivenHow: Consent.Manner?
        var consentInterpreterLanguage: String?

        /// The hand-over consent given with the referral, if any.
        var consent: ConsentGiven? {
            consentGivenOn.map { ConsentGiven(givenOn: $0, how: consentGivenHow, interpreterLanguage: consentInterpreterLanguage) }
        }
    }

    struct Answer: Decodable {
        var kind: String
        var outcome: String?
        var note: String?
    }

    func register(on routes: GuardedRouter) {
        routes.get("/api/v1/cases/{id}/referrals", .workCases) { _, context in
            let id = try context.id()
            return JSONResponse(try await referrals.of(case: id, by: context.identity, clientAddress: context.clientAddress), snakeCase: true)
        }

        routes.on(.post, "/api/v1/cases/{id}/referrals", .workCases) { request, context in
            let body = try await request.json(NewReferral.self, context: context, snakeCase: true)
            let referral = try await referrals.send(
                case: try context.id(),
                service: body.serviceId,
                reason: body.reason,
                consent: body.consent,
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return JSONResponse(referral, status: .created, headers: [.location: "/api/v1/referrals/\(referral.id)"], snakeCase: true)
        }

        routes.get("/api/v1/referrals/incoming", .answerReferrals) { _, context in
            JSONResponse(try await referrals.incoming(by: context.identity, clientAddress: context.clientAddress), snakeCase: true)
        }

        routes.get("/api/v1/referrals/{id}", .answerReferrals) { _, context in
            JSONResponse(
                try await referrals.referral(try context.id(), by: context.identity, clientAddress: context.clientAddress),
                snakeCase: true
            )
        }

        routes.on(.post, "/api/v1/referrals/{id}/responses", .answerReferrals) { request, context in
            let body = try await request.json(Answer.self, context: context, snakeCase: true)
            let referral = try await referrals.respond(
                try context.id(),
                kind: body.kind,
                outcome: body.outcome,
                note: body.note ?? "",
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return JSONResponse(referral, status: .created, snakeCase: true)
        }
    }
}
