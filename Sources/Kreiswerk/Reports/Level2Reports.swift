import Foundation
import Logging
import PostgresNIO

/// Why a reported case is complex: the four constellations of the KIM concept, section 6.
public enum Complexity: String, Sendable, Codable, CaseIterable {
    case jurisdictionInterplay = "jurisdiction_interplay"
    case structuralGap = "structural_gap"
    case accumulatedDisadvantage = "accumulated_disadvantage"
    case personalConflict = "personal_conflict"

    public var label: String {
        switch self {
        case .jurisdictionInterplay: "Zusammenspiel verschiedener Zuständigkeiten und Rechtskreise"
        case .structuralGap: "Strukturelle Schwierigkeiten bei Übergängen oder Angeboten"
        case .accumulatedDisadvantage: "Mehrfachbenachteiligung (Problemkumulation)"
        case .personalConflict: "Persönliche Konflikte / Handhabung von Ermessensspielräumen"
        }
    }
}

/// A level-2 report as the reporter and the receiving team see it.
public struct CaseReport: Sendable, Codable, Equatable {
    public var id: UUID
    public var reporter: String
    public var reporterTenantName: String
    public var reporterName: String
    public var recipient: String
    /// The town's slug and name.
    public var town: String
    public var townName: String
    public var channel: AccessChannel
    public var complexity: Complexity
    public var firstName: String
    public var lastName: String
    public var dateOfBirth: Day
    public var languages: [String]
    public var contact: String?
    public var description: String
    public var consentGivenOn: Day
    /// How the person's consent was given; nil on reports that did not say (the API does not require it, the page does).
    public var consentGivenHow: Consent.Manner?
    /// The language interpreted into, for a consent given with an interpreter.
    public var consentInterpreterLanguage: String?
    public var reportedAt: Date
    /// open, accepted or declined.
    public var state: String
    public var decisionReason: String?
    public var deciderName: String?
    /// Only for the receiving team: the case it opened.
    public var caseID: UUID?

    /// How the consent was given, in the client page's words; nil when the report did not say.
    var consentHowInWords: String? {
        Consent(id: id, scope: .caseManagement, givenOn: consentGivenOn, givenHow: consentGivenHow, interpreterLanguage: consentInterpreterLanguage)
            .howInWords
    }
}

/// The report a partner fills in.
public struct NewCaseReport: Sendable, Decodable {
    public var town: String
    public var complexity: Complexity
    public var firstName: String
    public var lastName: String
    public var dateOfBirth: Day
    public var languages: [String]?
    public var contact: String?
    public var description: String
    public var consentGivenOn: Day?
    public var consentGivenHow: Consent.Manner? = nil
    public var consentInterpreterLanguage: String? = nil

    /// The person's consent as reported, if any.
    var consent: ConsentGiven? {
        consentGivenOn.map { ConsentGiven(givenOn: $0, how: consentGivenHow, interpreterLanguage: consentInterpreterLanguage) }
    }
}

/// The Meldeverfahren: reporting, the team's inbox, accepting (opens a level-2 case) or declining.
public struct Level2Reports: Sendable {
    let work: TenantWork

    public init(work: TenantWork) { self.work = work }

    var database: Database { work.database }
    var logger: Logger { work.logger }

    static let select = """
        SELECT r.id, rt.slug, rt.name, r.reporter_name, ct.slug, tt.name, r.channel, r.complexity, r.first_name, r.last_name,
               to_char(r.date_of_birth, 'YYYY-MM-DD'), r.languages, r.contact, r.description, to_char(r.consent_given_on, 'YYYY-MM-DD'), r.reported_at,
               d.decision, d.reason, d.decider_name, d.case_id, r.recipient_tenant_id, tt.slug, r.consent_given_how, r.consent_interpreter_language
        FROM case_reports r JOIN tenants rt ON rt.id = r.tenant_id JOIN tenants ct ON ct.id = r.recipient_tenant_id JOIN tenants tt ON tt.id = r.town_id
        LEFT JOIN case_report_decisions d ON d.report_id = r.id
        """

    func decode(_ rows: PostgresRowSequence, actingFor tenant: UUID) async throws -> [CaseReport] {
        var reports: [CaseReport] = []
        for try await row in rows {
            let r = row.makeRandomAccess()
            let recipient = try r[20].decode(UUID.self)
            reports.append(
                CaseReport(
                    id: try r[0].decode(UUID.self),
                    reporter: try r[1].decode(String.self),
                    reporterTenantName: try r[2].decode(String.self),
                    reporterName: try r[3].decode(String.self),
                    recipient: try r[4].decode(String.self),
                    town: try r[21].decode(String.self),
                    townName: try r[5].decode(String.self),
                    channel: AccessChannel(rawValue: try r[6].decode(String.self)) ?? .level2External,
                    complexity: Complexity(rawValue: try r[7].decode(String.self)) ?? .structuralGap,
                    firstName: try r[8].decode(String.self),
                    lastName: try r[9].decode(String.self),
                    dateOfBirth: Day(try r[10].decode(String.self))!,
                    languages: try r[11].decode([String].self),
                    contact: try r[12].decode(String?.self),
                    description: try r[13].decode(String.self),
                    consentGivenOn: Day(try r[14].decode(String.self))!,
                    consentGivenHow: try r[22].decode(String?.self).flatMap(Consent.Manner.init(rawValue:)),
                    consentInterpreterLanguage: try r[23].decode(String?.self),
                    reportedAt: try r[15].decode(Date.self),
                    state: try r[16].decode(String?.self) ?? "open",
                    decisionReason: try r[17].decode(String?.self),
                    deciderName: try r[18].decode(String?.self),
                    caseID: recipient == tenant ? try r[19].decode(UUID?.self) : nil
                )
            )
        }
        return reports
    }

    /// The towns one may report to: the municipalities of the reporter's district.
    public func towns(for identity: Identity) async throws -> [TenantRef] {
        try await database.withTransaction { connection in
            try await TenantDirectory.towns(of: identity.tenant.ownDistrictID, on: connection, logger: logger)
        }
    }

    /// A partner reports a complex case to a town's case-management team (or the carrier that carries it out), with the
    /// person's consent: when and how it was given. `alsoWrong` are the problems the caller found before (a form's).
    public func report(
        _ new: NewCaseReport,
        alsoWrong: [String: String] = [:],
        by identity: Identity,
        clientAddress: String?
    ) async throws
        -> CaseReport
    {
        var errors: [String: String] = [:]
        if new.firstName.trimmingCharacters(in: .whitespaces).isEmpty { errors["first_name"] = "Bitte den Vornamen angeben." }
        if new.lastName.trimmingCharacters(in: .whitespaces).isEmpty { errors["last_name"] = "Bitte den Nachnamen angeben." }
        if new.dateOfBirth > .today { errors["date_of_birth"] = "Das Geburtsdatum liegt in der Zukunft." }
        let description = new.description.trimmingCharacters(in: .whitespacesAndNewlines)
        if description.isEmpty || description.count > 5000 { errors["description"] = "Bitte den Fall in 1 bis 5000 Zeichen beschreiben." }
        let consent = ConsentGiven.required(
            new.consent,
            alsoWrong: alsoWrong,
            missing: "Melden Sie nur mit Einverständnis der Person; bitte bestätigen Sie es.",
            errors: &errors
        )
        guard let town = try await towns(for: identity).first(where: { $0.slug == new.town }) else {
            errors["town"] = "Bitte eine Stadt Ihres Kreises wählen."
            throw InvalidInput(errors: errors)
        }
        guard errors.isEmpty, let consent else { throw InvalidInput(errors: errors) }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            // A town whose case management a carrier carries out (Breckerfeld: VHS EN Süd) receives through it.
            let delegate = try await connection.query("SELECT case_management_by FROM tenants WHERE id = \(town.id)", logger: logger).collect().first?
                .decode(UUID?.self)
            let recipient = delegate ?? town.id
            // The town's own offices (Sozialamt, Jugendamt: its staff with the reporting role) report to its case-management
            // team like everyone else (seed 004, section 6); only the team's own case workers take people in directly.
            let ownTeam = recipient == identity.tenant.id
            if ownTeam && work.policy.allows(identity, .workCases) {
                throw InvalidInput(field: "town", "Ihr eigenes Team nimmt Fälle über die Aufnahme auf, nicht über eine Meldung.")
            }
            let channel: AccessChannel = identity.tenant.kind == "carrier" ? .level2External : .level2Internal
            let id = UUID()
            try await connection.query(
                """
                INSERT INTO case_reports (tenant_id, id, recipient_tenant_id, town_id, channel, complexity, first_name, last_name, date_of_birth,
                    languages, contact, description, consent_given_on, consent_given_how, consent_interpreter_language, reporter_name, reported_by)
                VALUES (\(identity.tenant.id), \(id), \(recipient), \(town.id), \(channel.rawValue), \(new.complexity.rawValue),
                    \(new.firstName.trimmingCharacters(in: .whitespaces)), \(new.lastName.trimmingCharacters(in: .whitespaces)), \(new.dateOfBirth.iso)::date,
                    \(new.languages ?? []), \(new.contact), \(description), \(consent.givenOn.iso)::date, \(consent.how?.rawValue),
                    \(consent.interpreterLanguage), \(identity.displayName), \(identity.userID))
                """,
                logger: logger
            )
            audit.append(work.event("report.sent", identity, "report", id, ["town": town.slug, "complexity": new.complexity.rawValue]))
            // Within the own tenant the team reads the report without a grant (a tenant grants nothing to itself).
            if !ownTeam {
                let grant = try await AccessGrants.grant(
                    .report,
                    object: id,
                    to: recipient,
                    consent: nil,
                    by: identity,
                    on: connection,
                    logger: logger
                )
                audit.append(work.event("grant.created", identity, "grant", grant, ["report": id.uuidString]))
            }
            return try await decode(connection.query("\(unescaped: Self.select) WHERE r.id = \(id)", logger: logger), actingFor: identity.tenant.id)
                .first!
        }
    }

    /// Reports the identity's tenant sent (reporter's view) or received (the team's inbox); an audited read.
    public func list(received: Bool, by identity: Identity, clientAddress: String?) async throws -> [CaseReport] {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let condition = received ? "r.recipient_tenant_id = $1" : "r.tenant_id = $1"
            var bindings = PostgresBindings()
            bindings.append(identity.tenant.id)
            let reports = try await decode(
                connection.query(
                    PostgresQuery(unsafeSQL: "\(Self.select) WHERE \(condition) ORDER BY r.reported_at DESC LIMIT 500", binds: bindings),
                    logger: logger
                ),
                actingFor: identity.tenant.id
            )
            audit.append(AuditEvent("report.listed", tenant: identity.tenant.id, actor: identity.userID, detail: ["results": "\(reports.count)"]))
            return reports
        }
    }

    /// The team accepts (registers the client, records the reported consent and opens a level-2 case) or declines with a reason.
    public func decide(_ id: UUID, accept: Bool, reason: String, by identity: Identity, clientAddress: String?) async throws -> CaseReport {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        if !accept && reason.isEmpty { throw InvalidInput(field: "reason", "Bitte den Grund der Ablehnung nennen; die meldende Stelle sieht ihn.") }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            guard
                let report = try await decode(
                    connection.query("\(unescaped: Self.select) WHERE r.id = \(id)", logger: logger),
                    actingFor: identity.tenant.id
                )
                .first, report.recipient == identity.tenant.slug
            else { throw DomainError.notFound("Diese Meldung gibt es in Ihrem Eingang nicht.") }
            guard report.state == "open" else { throw InvalidInput(field: "decision", "Über diese Meldung ist schon entschieden.") }
            var caseID: UUID?
            if accept {
                var data = ClientData(firstName: report.firstName, lastName: report.lastName, dateOfBirth: report.dateOfBirth)
                data.languages = report.languages
                var client: UUID
                if let existing = try await ClientRecords.duplicates(of: data, on: connection, logger: logger).first {
                    client = existing
                } else {
                    client = try await ClientRecords.create(data, tenant: identity.tenant.id, by: identity.userID, on: connection, logger: logger)
                }
                let consent = try await ClientRecords.recordConsent(
                    client: client,
                    tenant: identity.tenant.id,
                    scope: .caseManagement,
                    recipient: nil,
                    givenOn: report.consentGivenOn,
                    givenHow: report.consentGivenHow,
                    interpreterLanguage: report.consentInterpreterLanguage,
                    by: identity.userID,
                    on: connection,
                    logger: logger
                )
                let file = try await CaseRecords.open(
                    client: client,
                    tenant: identity.tenant,
                    owner: identity.userID,
                    channel: report.channel,
                    reason: "\(report.complexity.label): \(report.description)",
                    nextReviewOn: nil,
                    on: connection,
                    logger: logger
                )
                try await connection.query("UPDATE cases SET report_id = \(id) WHERE id = \(file)", logger: logger)
                try await CaseRecords.addEvent(
                    "opened",
                    text: "Fall aus der Meldung von \(report.reporterName) (\(report.reporterTenantName)) eröffnet (\(report.channel.label)).",
                    case: file,
                    tenant: identity.tenant.id,
                    actor: identity.userID,
                    on: connection,
                    logger: logger
                )
                audit.append(work.event("client.created", identity, "client", client))
                audit.append(
                    work.event(
                        "consent.given",
                        identity,
                        "consent",
                        consent,
                        ["client": client.uuidString, "scope": "case_management", "via": "report"]
                    )
                )
                audit.append(work.event("case.opened", identity, "case", file, ["report": id.uuidString, "channel": report.channel.rawValue]))
                caseID = file
            }
            let reporter = try await TenantDirectory.find(slug: report.reporter, on: connection, logger: logger)!
            try await connection.query(
                """
                INSERT INTO case_report_decisions (tenant_id, id, report_id, reporter_tenant_id, decision, reason, case_id, decider_name, decided_by)
                VALUES (\(identity.tenant.id), \(UUID()), \(id), \(reporter.id), \(accept ? "accepted" : "declined"), \(reason), \(caseID),
                        \(identity.displayName), \(identity.userID))
                """,
                logger: logger
            )
            audit.append(work.event(accept ? "report.accepted" : "report.declined", identity, "report", id))
            return try await decode(connection.query("\(unescaped: Self.select) WHERE r.id = \(id)", logger: logger), actingFor: identity.tenant.id)
                .first!
        }
    }
}
