import Foundation
import Logging
import PostgresNIO

/// A referral as either side sees it. The receiver sees the minimal data set and the service,
/// never the sender's case or client record.
public struct Referral: Sendable, Codable, Equatable {
    public struct Response: Sendable, Codable, Equatable {
        public var kind: String
        public var outcome: String?
        public var note: String
        public var responderName: String
        public var respondedAt: Date
    }

    public var id: UUID
    /// Only for the sender.
    public var caseID: UUID?
    public var caseNumber: String
    public var serviceName: String
    public var programme: String
    public var sender: String
    public var senderName: String
    /// The referring organisation's name (the sender is its slug).
    public var senderOrganisation: String
    public var receiver: String
    public var receiverName: String
    public var firstName: String
    public var lastName: String
    public var dateOfBirth: Day
    public var languages: [String]
    public var germanLevel: String?
    public var placeOfResidence: String?
    public var reason: String
    public var sentAt: Date
    /// sent, accepted, declined or feedback (the last answer decides).
    public var state: String
    /// Whether the receiver still holds its grant (false after the client withdrew consent).
    public var grantActive: Bool
    public var responses: [Response]

    public static func stateLabel(_ state: String) -> String {
        switch state {
        case "sent": "gesendet, noch keine Antwort"
        case "accepted": "angenommen"
        case "declined": "abgelehnt"
        case "feedback": "Rückmeldung gegeben"
        default: state
        }
    }

    public static let outcomes: [String: String] = [
        "started": "Beratung begonnen", "completed": "Beratung abgeschlossen", "not_reached": "nicht erreicht", "discontinued": "abgebrochen",
        "other": "sonstiges",
    ]
}

/// Referrals (Verweisberatung) with the district's standard hand-over, as an explicit grant.
public struct Referrals: Sendable {
    let work: CaseWork

    public init(work: CaseWork) { self.work = work }

    var database: Database { work.database }
    var logger: Logger { work.logger }

    static let select = """
        SELECT r.id, r.case_id, r.tenant_id, r.case_number, s.name, s.programme, st.slug, r.sender_name, rt.slug, rt.name, r.first_name, r.last_name,
               to_char(r.date_of_birth, 'YYYY-MM-DD'), r.languages, r.german_level, r.place_of_residence, r.reason, r.sent_at,
               EXISTS (SELECT 1 FROM access_grants g WHERE g.object_type = 'referral' AND g.object_id = r.id AND g.revoked_at IS NULL),
               st.name
        FROM referrals r JOIN services s ON s.id = r.service_id JOIN tenants st ON st.id = r.tenant_id JOIN tenants rt ON rt.id = r.receiver_tenant_id
        """

    func decode(_ rows: PostgresRowSequence, actingFor tenant: UUID, on connection: PostgresConnection) async throws -> [Referral] {
        try await Self.decode(rows, actingFor: tenant, on: connection, logger: logger)
    }

    /// The referrals of `rows`, each with its answers: the answers of all of them in one more query, never one per referral.
    static func decode(
        _ rows: PostgresRowSequence,
        actingFor tenant: UUID,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> [Referral] {
        var referrals: [Referral] = []
        for try await row in rows {
            let r = row.makeRandomAccess()
            let senderTenant = try r[2].decode(UUID.self)
            referrals.append(
                Referral(
                    id: try r[0].decode(UUID.self),
                    caseID: senderTenant == tenant ? try r[1].decode(UUID.self) : nil,
                    caseNumber: try r[3].decode(String.self),
                    serviceName: try r[4].decode(String.self),
                    programme: try r[5].decode(String.self),
                    sender: try r[6].decode(String.self),
                    senderName: try r[7].decode(String.self),
                    senderOrganisation: try r[19].decode(String.self),
                    receiver: try r[8].decode(String.self),
                    receiverName: try r[9].decode(String.self),
                    firstName: try r[10].decode(String.self),
                    lastName: try r[11].decode(String.self),
                    dateOfBirth: Day(try r[12].decode(String.self))!,
                    languages: try r[13].decode([String].self),
                    germanLevel: try r[14].decode(String?.self),
                    placeOfResidence: try r[15].decode(String?.self),
                    reason: try r[16].decode(String.self),
                    sentAt: try r[17].decode(Date.self),
                    state: "sent",
                    grantActive: try r[18].decode(Bool.self),
                    responses: []
                )
            )
        }
        guard !referrals.isEmpty else { return [] }
        let index = Dictionary(uniqueKeysWithValues: referrals.enumerated().map { ($1.id, $0) })
        let answers = try await connection.query(
            """
            SELECT referral_id, kind, outcome, note, responder_name, responded_at FROM referral_responses
            WHERE referral_id = ANY(\(referrals.map(\.id))) ORDER BY responded_at, id
            """,
            logger: logger
        )
        for try await (referral, kind, outcome, note, name, at) in answers.decode((UUID, String, String?, String, String, Date).self) {
            guard let position = index[referral] else { continue }
            referrals[position].responses.append(.init(kind: kind, outcome: outcome, note: note, responderName: name, respondedAt: at))
            referrals[position].state = kind
        }
        return referrals
    }

    /// Refers the case's client to a service, recording the client's hand-over consent (when and how it was given), and
    /// grants the service's carrier the minimal data set. `alsoWrong` are the problems the caller found before (a form's
    /// consent fields), reported with these in one answer.
    public func send(
        case id: UUID,
        service serviceID: UUID,
        reason: String,
        consent: ConsentGiven?,
        alsoWrong: [String: String] = [:],
        by identity: Identity,
        clientAddress: String?
    ) async throws -> Referral {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        var problems: [String: String] = [:]
        if reason.isEmpty || reason.count > 2000 {
            problems["reason"] = "Bitte den Anlass der Verweisung in 1 bis 2000 Zeichen nennen; die Beratungsstelle sieht ihn."
        }
        let given = ConsentGiven.required(
            consent,
            alsoWrong: alsoWrong,
            missing: "Ohne Einwilligung des Klienten in die Übergabe kann nicht verwiesen werden.",
            errors: &problems
        )
        guard problems.isEmpty, let given else { throw InvalidInput(errors: problems) }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let file = try await work.workable(id, on: connection)
            let client = try await ClientRecords.find(file.clientID, on: connection, logger: logger)!
            let district = identity.tenant.ownDistrictID ?? identity.tenant.id
            guard
                let service = try await ServiceDirectory.list(district: district, on: connection, logger: logger).first(where: { $0.id == serviceID })
            else {
                throw InvalidInput(field: "service_id", "Diese Beratungsstelle gibt es im Versorgungssystem Ihres Kreises nicht (mehr).")
            }
            // Only a service that serves the client's town (one limited to other towns is not offered, and not taken).
            let town = try await ServiceDirectory.town(of: identity, placeOfResidence: client.data.placeOfResidence, on: connection, logger: logger)
            if let town, !service.towns.isEmpty, !service.towns.contains(town) {
                throw InvalidInput(
                    field: "service_id",
                    "„\(service.name)“ berät nur in anderen Städten des Kreises, nicht am Wohnort des Klienten; bitte ein Angebot für diese Stadt wählen."
                )
            }
            let receiver = try await TenantDirectory.find(slug: service.carrier, on: connection, logger: logger)!
            // A service of the sender's own tenant is received by its counsellors (a carrier's or an office's); a town's own
            // tenant has none: its offices (Jugendamt, Sozialamt) receive referrals as tenants of their own.
            if receiver.id == identity.tenant.id && !Policy.rolesOffered(by: identity.tenant.kind).contains(.counsellor) {
                throw InvalidInput(
                    field: "service_id",
                    "„\(service.name)“ ist ein Angebot von \(identity.tenant.name) selbst; dort nimmt niemand Verweisungen entgegen. Bitte die Arbeit im Fall selbst vermerken oder ein Angebot eines Amtes oder Trägers wählen."
                )
            }
            let consent = try await ClientRecords.recordConsent(
                client: client.id,
                tenant: identity.tenant.id,
                scope: .handover,
                recipient: service.name,
                givenOn: given.givenOn,
                givenHow: given.how,
                interpreterLanguage: given.interpreterLanguage,
                by: identity.userID,
                on: connection,
                logger: logger
            )
            let referralID = UUID()
            try await connection.query(
                """
                INSERT INTO referrals (tenant_id, id, case_id, client_id, service_id, receiver_tenant_id, case_number, first_name, last_name,
                    date_of_birth, languages, german_level, place_of_residence, reason, sender_name, sent_by)
                VALUES (\(identity.tenant.id), \(referralID), \(file.id), \(client.id), \(service.id), \(receiver.id), \(file.caseNumber),
                    \(client.data.firstName), \(client.data.lastName), \(client.data.dateOfBirth.iso)::date, \(client.data.languages ?? []),
                    \(client.data.germanLevel), \(client.data.placeOfResidence), \(reason), \(identity.displayName), \(identity.userID))
                """,
                logger: logger
            )
            // After the referral: a tenant grants sight only of objects it holds (0017). A referral within the own tenant
            // is granted to it too (0046), so that withdrawing the consent ends its counsellors' sight of it as well.
            let grant = try await AccessGrants.grant(
                .referral,
                object: referralID,
                to: receiver.id,
                consent: consent,
                by: identity,
                on: connection,
                logger: logger
            )
            audit.append(work.event("grant.created", identity, "grant", grant, ["grantee": receiver.slug, "referral": referralID.uuidString]))
            try await CaseRecords.addEvent(
                "referral_sent",
                text: "Verwiesen an \(service.name) (\(service.carrierName)).",
                case: file.id,
                tenant: identity.tenant.id,
                actor: identity.userID,
                on: connection,
                logger: logger
            )
            audit.append(work.event("consent.given", identity, "consent", consent, ["client": client.id.uuidString, "scope": "handover"]))
            audit.append(work.event("referral.sent", identity, "referral", referralID, ["case": file.id.uuidString, "service": service.key]))
            return try await decode(
                connection.query("\(unescaped: Self.select) WHERE r.id = \(referralID)", logger: logger),
                actingFor: identity.tenant.id,
                on: connection
            ).first!
        }
    }

    /// The referrals of a case (the sender's view, with the answers).
    /// The referrals of one of the tenant's cases (an audited read).
    public func of(case id: UUID, by identity: Identity, clientAddress: String?) async throws -> [Referral] {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            guard try await CaseRecords.find(id, on: connection, logger: logger) != nil else { throw CaseWork.noCase }
            audit.append(work.event("referral.listed", identity, "case", id))
            return try await Self.of(case: id, tenant: identity.tenant.id, on: connection, logger: logger)
        }
    }

    static func of(case id: UUID, tenant: UUID, on connection: PostgresConnection, logger: Logger) async throws -> [Referral] {
        try await decode(
            connection.query("\(unescaped: select) WHERE r.case_id = \(id) AND r.tenant_id = \(tenant) ORDER BY r.sent_at DESC", logger: logger),
            actingFor: tenant,
            on: connection,
            logger: logger
        )
    }

    /// The condition on `referrals r` under which the acting person (a `counsellor` or not) receives a referral for their tenant: the tenant holds a
    /// live grant on it (revoked when the client withdraws the hand-over consent, within the own tenant too, 0046), the
    /// person did not send it, and one of their own tenant's case workers sent it to their own service only if they are a
    /// counsellor (case workers do not answer their own colleagues' referrals).
    static func received(counsellor: Bool) -> String {
        """
        (r.receiver_tenant_id = app_current_tenant() AND app_holds_grant('referral', r.id) AND r.sent_by IS DISTINCT FROM app_current_user()
            AND (r.tenant_id <> app_current_tenant() OR \(counsellor)))
        """
    }

    /// The condition on `referrals r` under which the acting person reads a referral as its sender: one of their own
    /// tenant's cases referred it, and they work its cases (a counsellor of the same house sees it only as receiver).
    func sent(by identity: Identity) -> String {
        "(r.tenant_id = app_current_tenant() AND \(work.policy.allows(identity, .workCases)))"
    }

    /// Referrals to the identity's tenant whose grant is live, and for its counsellors those of their own tenant's case
    /// workers — never one the person sent themselves (an audited read).
    public func incoming(by identity: Identity, clientAddress: String?) async throws -> [Referral] {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let referrals = try await decode(
                connection.query(
                    "\(unescaped: Self.select) WHERE \(unescaped: Self.received(counsellor: identity.has(.counsellor))) ORDER BY r.sent_at DESC LIMIT 500",
                    logger: logger
                ),
                actingFor: identity.tenant.id,
                on: connection
            )
            audit.append(AuditEvent("referral.listed", tenant: identity.tenant.id, actor: identity.userID, detail: ["results": "\(referrals.count)"]))
            return referrals
        }
    }

    /// One referral, for the sender or the receiver while its grant is live (an audited read).
    public func referral(_ id: UUID, by identity: Identity, clientAddress: String?) async throws -> Referral {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            guard
                let referral = try await decode(
                    connection.query(
                        """
                        \(unescaped: Self.select)
                        WHERE r.id = \(id) AND (\(unescaped: sent(by: identity)) OR \(unescaped: Self.received(counsellor: identity.has(.counsellor))))
                        """,
                        logger: logger
                    ),
                    actingFor: identity.tenant.id,
                    on: connection
                ).first
            else { throw Self.noReferral }
            audit.append(work.event("referral.read", identity, "referral", id))
            return referral
        }
    }

    /// The receiver answers: accepted, declined (with a reason the sender sees) or feedback with an outcome.
    public func respond(
        _ id: UUID,
        kind: String,
        outcome: String?,
        note: String,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> Referral {
        let note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard ["accepted", "declined", "feedback"].contains(kind) else {
            throw InvalidInput(field: "kind", "Die Antwort ist accepted (angenommen), declined (abgelehnt) oder feedback (Rückmeldung).")
        }
        if kind == "declined" && note.isEmpty {
            throw InvalidInput(field: "note", "Bitte den Grund der Ablehnung nennen; die verweisende Stelle sieht ihn.")
        }
        if kind == "feedback" && Referral.outcomes[outcome ?? ""] == nil {
            throw InvalidInput(field: "outcome", "Bitte das Ergebnis angeben: \(Referral.outcomes.keys.sorted().joined(separator: ", ")).")
        }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            // A counsellor who sent the referral themselves (holding a case worker's role too) is told why they may not
            // answer it; anyone else who does not receive it learns nothing of it.
            let sentItThemselves = try await connection.query(
                "SELECT 1 FROM referrals r WHERE r.id = \(id) AND r.sent_by = \(identity.userID) AND r.receiver_tenant_id = r.tenant_id",
                logger: logger
            ).collect()
            if !sentItThemselves.isEmpty && identity.has(.counsellor) { throw Self.ownReferral }
            guard
                let referral = try await decode(
                    connection.query(
                        "\(unescaped: Self.select) WHERE r.id = \(id) AND \(unescaped: Self.received(counsellor: identity.has(.counsellor)))",
                        logger: logger
                    ),
                    actingFor: identity.tenant.id,
                    on: connection
                ).first
            else { throw Self.noReferral }
            let allowed: [String: [String]] = ["sent": ["accepted", "declined"], "accepted": ["feedback"], "feedback": ["feedback"], "declined": []]
            guard allowed[referral.state, default: []].contains(kind) else {
                throw InvalidInput(
                    field: "kind",
                    referral.state == "sent"
                        ? "Bitte die Verweisung zuerst annehmen oder ablehnen."
                        : "Die Verweisung ist \(Referral.stateLabel(referral.state)); diese Antwort passt nicht mehr."
                )
            }
            let senderTenant = try await TenantDirectory.find(slug: referral.sender, on: connection, logger: logger)!
            let responseID = UUID()
            try await connection.query(
                """
                INSERT INTO referral_responses (tenant_id, id, referral_id, sender_tenant_id, kind, outcome, note, responder_name, responded_by)
                VALUES (\(identity.tenant.id), \(responseID), \(id), \(senderTenant.id), \(kind), \(kind == "feedback" ? outcome : nil), \(note),
                        \(identity.displayName), \(identity.userID))
                """,
                logger: logger
            )
            // The referring case manager hears back (inbox, and e-mail by their preference): the title names the case
            // number and the service, never the client.
            try await connection.query(
                "SELECT notify_referral_sender(\(responseID), \(Self.answerTitle(kind, referral, by: identity.tenant.name)))",
                logger: logger
            ).collect()
            audit.append(work.event("referral.\(kind)", identity, "referral", id))
            return try await decode(
                connection.query("\(unescaped: Self.select) WHERE r.id = \(id)", logger: logger),
                actingFor: identity.tenant.id,
                on: connection
            ).first!
        }
    }

    /// What the sender's inbox says of an answer.
    static func answerTitle(_ kind: String, _ referral: Referral, by receiver: String) -> String {
        let what =
            switch kind {
            case "accepted": "angenommen"
            case "declined": "abgelehnt"
            default: "Rückmeldung gegeben"
            }
        return "Verweisung an \(referral.serviceName) (Fall \(referral.caseNumber)): \(what) von \(receiver)"
    }

    static let ownReferral = DomainError.forbidden(
        "Diese Verweisung haben Sie selbst gesendet; annehmen, ablehnen und zurückmelden kann sie nur eine Kollegin oder ein Kollege der Beratung."
    )

    static let noReferral = DomainError.notFound("Diese Verweisung gibt es nicht – oder die Einwilligung des Klienten wurde widerrufen.")
}
