import Foundation
import Hummingbird

/// `/api/v1/stand-ins`: the stand-ins (Vertretungen) of the stand-in page for programs, with the same rules (`StandIns`):
/// one names one's own stand-in, a team lead one for anyone of the tenant who works cases; the absent person and a team
/// lead end one. Bodies and answers use snake_case keys; an absent value is left out.
struct StandInAPI {
    let standIns: StandIns

    /// A stand-in as the API writes it.
    struct Record: Encodable, Sendable {
        var id: UUID
        var absentId: UUID
        var absentName: String
        var standInId: UUID
        var standInName: String
        var startsOn: Day
        var endsOn: Day
        /// In force today.
        var active: Bool
        /// When it was ended before its last day.
        var endedAt: Date?

        init(_ standIn: StandIn) {
            id = standIn.id
            absentId = standIn.absentID
            absentName = standIn.absentName
            standInId = standIn.standInID
            standInName = standIn.standInName
            startsOn = standIn.startsOn
            endsOn = standIn.endsOn
            active = standIn.isActive()
            endedAt = standIn.endedAt
        }
    }

    /// What `GET /api/v1/stand-ins` answers: the caller's own absences, whom the caller stands in for, and for a team lead
    /// the tenant's stand-ins that are not over yet.
    struct Listing: Encodable, Sendable {
        var mine: [Record]
        var standingIn: [Record]
        var tenant: [Record]?
    }

    struct NewStandIn: Decodable, Sendable {
        var standInId: UUID
        /// Who is absent; left out: the caller.
        var absentId: UUID?
        var startsOn: Day
        var endsOn: Day
    }

    func register(on routes: GuardedRouter) {
        routes.get("/api/v1/stand-ins", .workCases, use: list)
        routes.on(.post, "/api/v1/stand-ins", .workCases, use: name)
        routes.on(.post, "/api/v1/stand-ins/{id}/end", .workCases, use: end)
    }

    func list(_ request: Request, _ context: SignedInContext) async throws -> some ResponseGenerator {
        let overview = try await standIns.overview(by: context.identity, clientAddress: context.clientAddress)
        return JSONResponse(
            Listing(
                mine: overview.mine.map(Record.init),
                standingIn: overview.standingIn.map(Record.init),
                tenant: overview.tenant?.map(Record.init)
            ),
            snakeCase: true
        )
    }

    func name(_ request: Request, _ context: SignedInContext) async throws -> some ResponseGenerator {
        let body = try await request.json(NewStandIn.self, context: context, snakeCase: true)
        let named = try await standIns.name(
            body.standInId,
            for: body.absentId,
            from: body.startsOn,
            to: body.endsOn,
            by: context.identity,
            clientAddress: context.clientAddress
        )
        return JSONResponse(Record(named), status: .created, snakeCase: true)
    }

    func end(_ request: Request, _ context: SignedInContext) async throws -> some ResponseGenerator {
        JSONResponse(Record(try await standIns.end(try context.id(), by: context.identity, clientAddress: context.clientAddress)), snakeCase: true)
    }
}
