import Foundation
import Hummingbird

/// Everything the tenant holds about one client, in one document: the answer to a request for
/// access (Art. 15 DSGVO) and the data to hand over (Art. 20). Read in one transaction, audited
/// with its own purpose.
struct ClientExport: Sendable {
    let work: CaseWork
    let referrals: Referrals
    let conferences: Conferences

    struct Document: Encodable, Sendable {
        var exportedAt: Date
        var tenant: String
        var client: Client
        var consents: [Consent]
        var cases: [CaseDocument]
    }

    struct CaseDocument: Encodable, Sendable {
        var file: CaseFile
        var goals: [Goal]
        var timeline: [CaseEvent]
        var referrals: [Referral]
        var conferences: [CaseConference]
    }

    func document(of id: UUID, by identity: Identity, clientAddress: String?) async throws -> Document {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let logger = work.database.logger
            guard let client = try await ClientRecords.find(id, on: connection, logger: logger) else { throw CaseWork.noClient }
            var cases: [CaseDocument] = []
            for file in try await CaseRecords.of(client: id, on: connection, logger: logger) {
                let conferenceIDs = try await connection.query(
                    "SELECT id FROM case_conferences WHERE tenant_id = \(identity.tenant.id) AND case_id = \(file.id) ORDER BY scheduled_at",
                    logger: logger
                ).collect().map { try $0.decode(UUID.self) }
                cases.append(
                    CaseDocument(
                        file: file,
                        goals: try await CaseRecords.goals(of: file.id, on: connection, logger: logger),
                        timeline: try await CaseRecords.timeline(of: file.id, on: connection, logger: logger),
                        referrals: try await Referrals.of(case: file.id, tenant: identity.tenant.id, on: connection, logger: logger),
                        conferences: try await conferences.load(conferenceIDs, actingFor: identity.tenant.id, on: connection)
                    )
                )
            }
            var event = work.event("client.exported", identity, "client", id, ["cases": "\(cases.count)"])
            event.purpose = "data_subject_access"
            audit.append(event)
            return Document(
                exportedAt: Date(),
                tenant: identity.tenant.slug,
                client: client,
                consents: try await ClientRecords.consents(of: id, on: connection, logger: logger),
                cases: cases
            )
        }
    }

    /// The document as a download (the API and the client page).
    func register(on routes: GuardedRouter) {
        let download: @Sendable (Request, SignedInContext) async throws -> JSONResponse<Document> = { _, context in
            let id = try context.id()
            let document = try await document(of: id, by: context.identity, clientAddress: context.clientAddress)
            return JSONResponse(
                document,
                headers: [.contentDisposition: "attachment; filename=\"auskunft-\(id.uuidString.lowercased()).json\""],
                snakeCase: true
            )
        }
        routes.get("/api/v1/clients/{id}/export", .workCases, use: download)
        routes.get("/klienten/{id}/auskunft", .workCases, use: download)
    }
}
